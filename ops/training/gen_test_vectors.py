"""Generates test-vectors/features-v1.json (CONTRACT.md section 4): feature rows the TypeScript
feature assembly (libs/ranking) must reproduce from the same spec, items and histories.

  python -m ops.training.gen_test_vectors [--out ops/training/test-vectors/features-v1.json]

Small and seeded: a synthetic data set (30 users, 20 items), its SVD item embeddings, 5 users'
click histories (the SDIM tables hold every click: serving time, no time cut), and ~20 rows that
also cover the defaults: an unknown item, a user without history, an item with an unknown year, an
item without an embedding, a non-ASCII id and a request domain that is not the item's own.
tests/test_feature_vectors.py recomputes every committed row from the committed inputs.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib
import tempfile
from typing import Dict, List

import numpy as np

from . import features as F
from . import movielens, synth
from .sdim_fast import FastSdim

DEFAULT_OUT = pathlib.Path(__file__).resolve().parent / "test-vectors" / "features-v1.json"
SYNTH = {"users": 30, "items": 20, "ratings": 300, "seed": 7}
NO_HISTORY_USER = "josé-no-history"  # UTF-8 hashing, zero interest
UNKNOWN_ITEM = "ünknown-item"  # default features
COLD_ITEM = "cold-item"  # in the catalog with a zero embedding


def rows_features(spec: dict, items: List[dict], histories: Dict[str, List[str]], requests: List[dict]) -> List[dict]:
    """The Python feature pipeline on serving-style inputs (full histories); returns the rows with
    their features, float features as float32 values (exact in JSON)."""
    from .schema import Item
    fs = FastSdim.from_spec(spec["sdim"])
    d = spec["embedding"]["dim"]
    catalog = {it["itemId"]: Item(it["itemId"], "", tuple(it.get("genres", ())), it.get("year")) for it in items}
    emb = {it["itemId"]: np.asarray(it["embedding"], dtype=np.float32) for it in items}
    table = F.ItemTable.build(spec, catalog, emb, fs)
    default_dense = F.dense_row(spec, (), None)
    out = []
    for req in requests:
        u, i = req["userId"], req["itemId"]
        k = table.index.get(i)
        q = table.emb[k] if k is not None else np.zeros(d, np.float32)
        hist = [table.emb[table.index[h]] for h in histories.get(u, [])]
        interest = fs.interest(np.array(hist, dtype=np.float32).reshape(-1, d), q[None, :])[0] if hist else np.zeros(d)
        out.append({**req, "features": {
            "user_bucket": F.fnv1a32(u) % spec["hash"]["userBuckets"],
            "item_bucket": F.fnv1a32(i) % spec["hash"]["itemBuckets"],
            "domain": spec["domains"].index(req["domain"]),
            "item_dense": [float(v) for v in (table.dense[k] if k is not None else default_dense)],
            "item_emb": [float(v) for v in q],
            "sdim_interest": [float(v) for v in interest.astype(np.float32)],
        }})
    return out


def build_vectors() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        ds = movielens.load(synth.generate(tmp, **SYNTH), name="synth")
    split = ds.time_split()
    first = next(iter(ds.items))
    ds.items[first] = dataclasses.replace(ds.items[first], year=None)  # cover yearDefault
    spec = F.build_spec(ds, "adaptdhm", 4, training={"data": "ops.training.synth " + json.dumps(SYNTH, sort_keys=True)})
    emb = F.item_embeddings(ds, ds.rows.take(split.train), spec["embedding"]["dim"])
    items = []
    for iid, it in ds.items.items():
        e = {"itemId": iid, "embedding": [float(v) for v in emb[iid]], "genres": list(it.genres)}
        if it.year is not None:
            e["year"] = it.year
        items.append(e)
    rows = ds.rows
    counts: Dict[str, int] = {}
    for u, lab in zip(rows.user, rows.label):
        counts[u] = counts.get(u, 0) + int(lab)
    users = sorted(counts, key=lambda u: (-counts[u], int(u)))[:5]
    histories = {u: [str(i) for i, uu, lab in zip(rows.item, rows.user, rows.label) if uu == u and lab == 1][:12] for u in users}
    # A catalog item without an embedding (zeros, as for an item nobody clicked in training); it
    # also enters a history, where it adds a zero vector to the tables.
    items.append({"itemId": COLD_ITEM, "embedding": [0.0] * spec["embedding"]["dim"], "genres": ["Documentary"], "year": 1998})
    histories[users[0]].append(COLD_ITEM)
    rng = np.random.default_rng(11)
    requests = []
    for n, u in enumerate(users):
        picks = list(rng.choice(list(ds.items), size=3, replace=False))
        if n == 0:
            picks[0] = COLD_ITEM
        if n == 1:
            picks[0] = first
        for j, i in enumerate(picks):
            own = movielens.domain_of(ds.items[i].genres if i in ds.items else ("Documentary",))
            dom = own if j < 2 else ds.domains[(ds.domains.index(own) + 1) % len(ds.domains)]
            requests.append({"userId": u, "itemId": str(i), "domain": dom})
    requests.append({"userId": users[0], "itemId": UNKNOWN_ITEM, "domain": "thrill"})
    requests.append({"userId": NO_HISTORY_USER, "itemId": str(list(ds.items)[3]), "domain": "drama"})
    requests.append({"userId": NO_HISTORY_USER, "itemId": UNKNOWN_ITEM, "domain": "family"})
    requests.append({"userId": users[2], "itemId": str(list(ds.items)[5]), "domain": "family"})
    requests.append({"userId": users[3], "itemId": str(list(ds.items)[7]), "domain": "drama"})
    return {"format": "features-test-vectors/1", "contract": "ops/training/CONTRACT.md section 4",
            "spec": spec, "items": items, "histories": histories,
            "rows": rows_features(spec, items, histories, requests)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ops.training.gen_test_vectors")
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    a = ap.parse_args(argv)
    v = build_vectors()
    p = pathlib.Path(a.out)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(v, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {p}: {len(v['items'])} items, {len(v['histories'])} histories, {len(v['rows'])} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
