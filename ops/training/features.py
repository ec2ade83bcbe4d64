"""Feature pipeline: the six model inputs of CONTRACT.md section 1 for every row of a data set.

  user_bucket   fnv1a32(utf8(user)) % userBuckets
  item_bucket   fnv1a32(utf8(item)) % itemBuckets
  domain        index of the row's domain
  item_dense    genre flags (spec genre order), then (year - yearOffset) / yearScale or yearDefault
  item_emb      the item's catalog embedding: truncated SVD of the TRAIN click matrix (d = 32),
                unit length, rounded to float32 (zeros for items without a train click)
  sdim_interest SDIM interest (libs/sdim, exact) of the user's clicks strictly before the row's
                timestamp, for item_emb as the candidate; zeros without earlier clicks
The slow reference for sdim_interest is exact target attention over the same clicks
(target_attention(); `--interest attention` trains on it instead).
Float features are computed in float64 and rounded once to float32, as the serving side does.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np

from .schema import Dataset, Interactions
from .sdim_fast import FastSdim
from .sdim_ref import DEFAULT_NORMALIZATION

SPEC_VERSION = 1
DEFAULT_SDIM = {"seed": 20240501, "m": 48, "tau": 3, "d": 32, "normalize": DEFAULT_NORMALIZATION}
DEFAULT_HASH = {"fn": "fnv1a32", "userBuckets": 2048, "itemBuckets": 4096}
YEAR_OFFSET, YEAR_SCALE = 1900, 100
FEATURES = ("user_bucket", "item_bucket", "domain", "item_dense", "item_emb", "sdim_interest")


def fnv1a32(s: str) -> int:
    h = 0x811C9DC5
    for b in s.encode("utf-8"):
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def item_embeddings(ds: Dataset, rows: Interactions, d: int) -> Dict[str, np.ndarray]:
    """Truncated SVD of the click matrix of `rows` (pass the TRAIN rows only: no leakage).

    With X the users x items click matrix and P the item click counts, the embedding of item i is
    row i of V * sqrt(lambda) for the top-d eigenpairs of P^-1/2 X^T X P^-1/2 (the degree-
    normalised co-occurrence, so the first factor is not just popularity), scaled to unit length.
    Deterministic: eigenvector signs are fixed so that each vector's largest |entry| is positive.
    Items without a click get zeros (what serving uses for an unknown item)."""
    item_ids = list(ds.items)
    col = {iid: i for i, iid in enumerate(item_ids)}
    clicked = rows.label == 1
    users = sorted(set(rows.user[clicked]))
    row = {u: i for i, u in enumerate(users)}
    X = np.zeros((len(users), len(item_ids)))
    for u, it in zip(rows.user[clicked], rows.item[clicked]):
        X[row[u], col[it]] = 1.0  # a user who clicked an item twice still counts once
    pop = X.sum(axis=0)
    scale = np.where(pop > 0, 1.0 / np.sqrt(np.maximum(pop, 1.0)), 0.0)
    Xn = X * scale[None, :]
    # The eigenpairs of Xn^T Xn from the thin SVD of Xn (users x items): V = right singular
    # vectors, lambda = singular values squared.
    _, sv, Vt = np.linalg.svd(Xn, full_matrices=False)
    top = np.argsort(-sv, kind="stable")[:d]
    lam, V = sv[top] ** 2, Vt[top].T.copy()
    for k in range(V.shape[1]):
        j = int(np.argmax(np.abs(V[:, k])))
        if V[j, k] < 0:
            V[:, k] = -V[:, k]
    E = V * np.sqrt(lam)[None, :]
    if E.shape[1] < d:  # fewer items than dimensions (tiny data sets): pad with zeros
        E = np.pad(E, ((0, 0), (0, d - E.shape[1])))
    norm = np.linalg.norm(E, axis=1)
    E = np.where((norm > 1e-12)[:, None] & (pop > 0)[:, None], E / np.maximum(norm, 1e-12)[:, None], 0.0)
    E32 = E.astype(np.float32)
    return {iid: E32[i] for i, iid in enumerate(item_ids)}


def year_default(ds: Dataset) -> float:
    """The median known year, normalised and rounded to 0.01 (written into the spec)."""
    years = sorted(it.year for it in ds.items.values() if it.year is not None)
    if not years:
        return 0.9
    return round((years[len(years) // 2] - YEAR_OFFSET) / YEAR_SCALE, 2)


def build_spec(ds: Dataset, kind: str, routing_dim: int, training: Optional[dict] = None,
               sdim: Optional[dict] = None, hash_cfg: Optional[dict] = None, name: str = "ctr") -> dict:
    sdim = dict(sdim or DEFAULT_SDIM)
    d = sdim["d"]
    g = len(ds.genres)
    return {
        "specVersion": SPEC_VERSION,
        "model": {"name": name, "kind": kind, "routingDim": routing_dim},
        "domains": list(ds.domains),
        "hash": dict(hash_cfg or DEFAULT_HASH),
        "itemDense": {"genres": list(ds.genres), "yearOffset": YEAR_OFFSET, "yearScale": YEAR_SCALE,
                      "yearDefault": year_default(ds)},
        "embedding": {"dim": d},
        "sdim": sdim,
        "history": {"positiveTypes": ["click"]},
        "inputs": [
            {"name": "user_bucket", "dtype": "int64", "shape": [-1]},
            {"name": "item_bucket", "dtype": "int64", "shape": [-1]},
            {"name": "domain", "dtype": "int64", "shape": [-1]},
            {"name": "item_dense", "dtype": "float32", "shape": [-1, g + 1]},
            {"name": "item_emb", "dtype": "float32", "shape": [-1, d]},
            {"name": "sdim_interest", "dtype": "float32", "shape": [-1, d]},
        ],
        "outputs": ["pctr", "routing"],
        "training": dict(training or {}),
    }


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def dense_row(spec: dict, genres: Sequence[str], year: Optional[int]) -> np.ndarray:
    dense = spec["itemDense"]
    idx = {g: i for i, g in enumerate(dense["genres"])}
    out = np.zeros(len(idx) + 1, dtype=np.float64)
    for g in genres:
        if g in idx:
            out[idx[g]] = 1.0
    out[-1] = dense["yearDefault"] if year is None else (year - dense["yearOffset"]) / dense["yearScale"]
    return out.astype(np.float32)


@dataclass
class ItemTable:
    """Per-item features shared by every row: dense attributes, embedding, SDIM signatures."""
    ids: List[str]
    index: Dict[str, int]
    dense: np.ndarray  # float32 [n, G+1]
    emb: np.ndarray  # float32 [n, d]
    sigs: np.ndarray  # int64 [n, m/tau], of the float32 embedding
    bucket: np.ndarray  # int64 [n]

    @classmethod
    def build(cls, spec: dict, items: Dict[str, "object"], emb: Dict[str, np.ndarray], sdim: FastSdim) -> "ItemTable":
        ids = list(items)
        d = spec["embedding"]["dim"]
        dense = np.stack([dense_row(spec, items[i].genres, items[i].year) for i in ids]) if ids else np.zeros((0, 1), np.float32)
        E = np.stack([np.asarray(emb.get(i, np.zeros(d)), dtype=np.float32) for i in ids]) if ids else np.zeros((0, d), np.float32)
        buckets = np.array([fnv1a32(i) % spec["hash"]["itemBuckets"] for i in ids], dtype=np.int64)
        return cls(ids, {i: k for k, i in enumerate(ids)}, dense, E, sdim.signatures(E), buckets)


def target_attention(hist: np.ndarray, queries: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Exact softmax attention (libs/sdim targetAttention): scores q.x / (sqrt(d) * temperature),
    keys = values = the behaviour embeddings; zeros for an empty history. float64 [n, d]."""
    n, d = queries.shape
    if len(hist) == 0:
        return np.zeros((n, d))
    s = (queries.astype(np.float64) @ hist.astype(np.float64).T) / (np.sqrt(d) * temperature)
    s -= s.max(axis=1, keepdims=True)
    w = np.exp(s)
    w /= w.sum(axis=1, keepdims=True)
    return w @ hist.astype(np.float64)


@dataclass
class RowFeatures:
    user_bucket: np.ndarray
    item_bucket: np.ndarray
    domain: np.ndarray
    item_dense: np.ndarray
    item_emb: np.ndarray
    sdim_interest: np.ndarray
    label: np.ndarray
    attention: Optional[np.ndarray] = None  # target-attention interest (the slow reference)
    # SDIM interest under other normalisations, by name ("sdim:l2"), for comparisons in evaluate.py.
    alt_interest: Dict[str, np.ndarray] = field(default_factory=dict)

    def inputs(self, idx=None, interest: str = "sdim") -> Dict[str, np.ndarray]:
        """The model's feeds for rows idx; interest='attention' puts the reference in the slot,
        'sdim:<normalize>' an alternative SDIM normalisation, 'none' zeros."""
        sel = slice(None) if idx is None else idx
        if interest == "sdim":
            slot = self.sdim_interest
        elif interest == "attention":
            slot = self.attention
        elif interest.startswith("sdim:"):
            slot = self.alt_interest.get(interest)
        else:
            slot = np.zeros_like(self.sdim_interest)
        if slot is None:
            raise ValueError(f"{interest} features were not computed")
        return {"user_bucket": self.user_bucket[sel], "item_bucket": self.item_bucket[sel],
                "domain": self.domain[sel], "item_dense": self.item_dense[sel],
                "item_emb": self.item_emb[sel], "sdim_interest": slot[sel]}


def _user_prefixes(rows: Interactions):
    """Per user: its rows (time order), its clicks among them, and for each row the number of
    clicks strictly before it (the row's history is that prefix of the click list)."""
    by_user: Dict[str, List[int]] = {}
    for r, u in enumerate(rows.user):
        by_user.setdefault(u, []).append(r)
    for rs in by_user.values():
        rs = np.asarray(rs, dtype=np.int64)  # time order (rows are sorted by timestamp)
        clicks = rs[rows.label[rs] == 1]
        prefix = np.searchsorted(rows.timestamp[clicks], rows.timestamp[rs], side="left")  # clicks strictly before
        yield rs, clicks, prefix


def sdim_interest_rows(spec: dict, items: ItemTable, rows: Interactions, sdim: FastSdim) -> np.ndarray:
    """The sdim_interest feature of every row (float32 [n, d]) under `sdim`'s normalisation."""
    it = np.array([items.index[i] for i in rows.item], dtype=np.int64)
    interest = np.zeros((len(rows), spec["embedding"]["dim"]), dtype=np.float32)
    for rs, clicks, prefix in _user_prefixes(rows):
        h_items = it[clicks]
        interest[rs] = sdim.interest_prefix(items.sigs[h_items], items.emb[h_items], items.sigs[it[rs]], prefix).astype(np.float32)
    return interest


def row_features(spec: dict, items: ItemTable, rows: Interactions, sdim: FastSdim,
                 attention_temperature: Optional[float] = None) -> RowFeatures:
    """Features of every row; the history of a row is its user's clicks with timestamp < its own.

    Per user the clicks and rows are both in time order, so the history of a row is a prefix of the
    user's click list (found by binary search) and FastSdim.interest_prefix does a whole user at
    once. Clicks on items without an embedding enter the SDIM tables as zero vectors (what the
    behaviour service does with them; they change no l2-normalised bucket, and count in 'pooled')
    and are left out of the attention reference (they would only dilute the softmax)."""
    d = spec["embedding"]["dim"]
    ub = spec["hash"]["userBuckets"]
    it = np.array([items.index[i] for i in rows.item], dtype=np.int64)
    interest = sdim_interest_rows(spec, items, rows, sdim)
    attention = None
    if attention_temperature is not None:
        attention = np.zeros((len(rows), d), dtype=np.float32)
        for rs, clicks, prefix in _user_prefixes(rows):
            H = items.emb[it[clicks]].astype(np.float64)
            nonzero = np.any(H != 0.0, axis=1)
            for k in np.unique(prefix):
                sel = rs[prefix == k]
                hk = H[:k][nonzero[:k]]
                attention[sel] = target_attention(hk, items.emb[it[sel]], attention_temperature).astype(np.float32)
    return RowFeatures(
        user_bucket=np.array([fnv1a32(u) % ub for u in rows.user], dtype=np.int64),
        item_bucket=items.bucket[it], domain=rows.domain.astype(np.int64), item_dense=items.dense[it],
        item_emb=items.emb[it], sdim_interest=interest, label=rows.label.astype(np.float32),
        attention=attention)
