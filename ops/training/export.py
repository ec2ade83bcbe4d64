"""Export of a trained model: ONNX (CONTRACT.md section 1) with a parity check against PyTorch,
feature-spec.json (section 2), catalog.jsonl (section 3), metrics.json and parity.json."""
from __future__ import annotations

import hashlib
import json
import pathlib
import time
import warnings
from typing import Dict, List, Optional

import numpy as np
import torch

from . import models as M
from .data import Prepared
from .features import FEATURES, now_iso

TOLERANCE = 1e-5
PARITY_ROWS_CHECKED = 2048  # held-out rows compared (the first test rows in time order)
PARITY_ROWS_WRITTEN = 32  # of which parity.json keeps this many, for the serving side's tests
OUTPUTS = ["pctr", "routing"]


class Exported(torch.nn.Module):
    """What serving runs: the probability after the sigmoid, and the routing."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, user_bucket, item_bucket, domain, item_dense, item_emb, sdim_interest):
        logit, routing = self.model(user_bucket, item_bucket, domain, item_dense, item_emb, sdim_interest)
        return torch.sigmoid(logit), routing


def export_onnx(model: torch.nn.Module, example: Dict[str, np.ndarray], path: pathlib.Path) -> None:
    import onnx

    model.eval()
    wrapper = Exported(model).eval()
    args = tuple(torch.from_numpy(np.ascontiguousarray(example[n])) for n in FEATURES)
    axes = {n: {0: "B"} for n in list(FEATURES) + OUTPUTS}
    with torch.no_grad(), warnings.catch_warnings():
        # dynamo=False is the contract's choice (CONTRACT.md section 1); its deprecation notice is noise.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(wrapper, args, str(path), input_names=list(FEATURES), output_names=OUTPUTS,
                          dynamic_axes=axes, opset_version=17, dynamo=False)
    onnx.checker.check_model(onnx.load(str(path)))


def onnx_session(path: pathlib.Path):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), sess_options=so, providers=["CPUExecutionProvider"])


def parity(model: torch.nn.Module, path: pathlib.Path, feeds: Dict[str, np.ndarray]) -> dict:
    """Runs both on the same rows; max |difference| over pctr and routing."""
    sess = onnx_session(path)
    got = sess.run(OUTPUTS, {n: np.ascontiguousarray(feeds[n]) for n in FEATURES})
    with torch.no_grad():
        want = Exported(model).eval()(*[torch.from_numpy(np.ascontiguousarray(feeds[n])) for n in FEATURES])
    want = [w.numpy() for w in want]
    diffs = {name: float(np.max(np.abs(g - w))) if g.size else 0.0 for name, g, w in zip(OUTPUTS, got, want)}
    worst = max(diffs.values())
    return {"tolerance": TOLERANCE, "maxAbsDiff": worst, "maxAbsDiffByOutput": diffs, "ok": bool(worst <= TOLERANCE),
            "rowsChecked": int(len(feeds[FEATURES[0]])), "torch": want, "onnx": got}


def catalog_events(prep: Prepared, created_ms: int) -> List[dict]:
    """One catalog.items upsert per item (CONTRACT.md section 3); eventIds derive from the content,
    so publishing the same catalog twice is deduplicated by the consumers."""
    out = []
    for iid in prep.items.ids:
        it = prep.ds.items[iid]
        emb = [float(v) for v in prep.items.emb[prep.items.index[iid]]]  # float32 values, exact in JSON
        attrs: Dict[str, object] = {"genres": list(it.genres)}
        if it.year is not None:
            attrs["year"] = it.year
        if it.title:
            attrs["title"] = it.title
        body = {"op": "upsert", "namespace": "items", "itemId": iid, "embedding": emb, "attributes": attrs}
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
        out.append({"eventId": f"training-catalog:{iid}:{digest}", "key": iid, "timestamp": created_ms,
                    "schemaVersion": 1, **body})
    return out


def _rows(prep: Prepared, idx: np.ndarray, feeds: Dict[str, np.ndarray], check: dict, n: int) -> List[dict]:
    r = prep.ds.rows
    out = []
    for k in range(min(n, len(idx))):
        i = idx[k]
        out.append({
            "userId": r.user[i], "itemId": r.item[i], "domain": prep.ds.domains[int(r.domain[i])],
            "timestamp": int(r.timestamp[i]), "label": int(r.label[i]),
            "features": {name: feeds[name][k].tolist() for name in FEATURES},
            "torch": {"pctr": float(check["torch"][0][k]), "routing": check["torch"][1][k].tolist()},
            "onnx": {"pctr": float(check["onnx"][0][k]), "routing": check["onnx"][1][k].tolist()},
        })
    return out


def export_all(tr, prep: Prepared, out: pathlib.Path, metrics: Optional[dict] = None) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    held = prep.split.test if len(prep.split.test) else prep.split.valid
    if len(held) == 0:
        held = prep.split.train
    idx = held[:PARITY_ROWS_CHECKED]
    feeds = prep.feats.inputs(idx, tr.cfg.interest)
    export_onnx(tr.model, {n: v[:2] for n, v in feeds.items()}, out / "model.onnx")
    check = parity(tr.model, out / "model.onnx", feeds)
    created = now_iso()
    spec = prep.with_model(tr.kind, M.routing_dim(tr.model), {
        **prep.spec["training"], "seed": tr.seed, "epochs": tr.cfg.epochs, "bestEpoch": tr.best_epoch,
        "batchSize": tr.cfg.batch_size, "lr": tr.cfg.lr, "weightDecay": tr.cfg.weight_decay, "interest": tr.cfg.interest, "createdAt": created,
        **({"note": "trained on the target-attention reference in the sdim_interest slot: not for serving"}
           if tr.cfg.interest != "sdim" else {}),
    })
    (out / "feature-spec.json").write_text(json.dumps(spec, indent=1) + "\n")
    with open(out / "catalog.jsonl", "w") as fh:
        for e in catalog_events(prep, int(time.time() * 1000)):
            fh.write(json.dumps(e, separators=(",", ":")) + "\n")
    summary = {k: v for k, v in check.items() if k not in ("torch", "onnx")}
    (out / "parity.json").write_text(json.dumps({**summary, "outputs": OUTPUTS, "inputs": list(FEATURES),
                                                 "rows": _rows(prep, idx, feeds, check, PARITY_ROWS_WRITTEN)}, indent=1) + "\n")
    m = {"model": tr.kind, "seed": tr.seed, "epochs": tr.cfg.epochs, "bestEpoch": tr.best_epoch,
         "interest": tr.cfg.interest, "trainSeconds": round(tr.seconds, 2), "history": tr.history,
         **(metrics or {}), "parity": summary}
    (out / "metrics.json").write_text(json.dumps(m, indent=1) + "\n")
    return summary
