"""AUC (scikit-learn's roc_auc_score) and logloss, overall and per domain."""
from __future__ import annotations

from typing import Dict, Sequence

import numpy as np
from sklearn.metrics import roc_auc_score


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC by scikit-learn (tied scores count one half); NaN when one class is missing (a domain
    with no clicks in a split), where roc_auc_score raises."""
    y = np.asarray(labels).astype(bool)
    s = np.asarray(scores, dtype=np.float64)
    pos, n = int(y.sum()), len(y)
    if pos == 0 or pos == n:
        return float("nan")
    return float(roc_auc_score(y, s))


def logloss(labels: np.ndarray, probs: np.ndarray, eps: float = 1e-7) -> float:
    y = np.asarray(labels, dtype=np.float64)
    p = np.clip(np.asarray(probs, dtype=np.float64), eps, 1 - eps)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def report(labels: np.ndarray, probs: np.ndarray, domain: np.ndarray, domains: Sequence[str]) -> Dict[str, object]:
    out: Dict[str, object] = {"overall": {"auc": auc(labels, probs), "logloss": logloss(labels, probs), "n": int(len(labels))}}
    per = {}
    for k, name in enumerate(domains):
        m = domain == k
        per[name] = {"auc": auc(labels[m], probs[m]), "logloss": logloss(labels[m], probs[m]) if m.any() else float("nan"),
                     "n": int(m.sum())}
    out["domains"] = per
    return out
