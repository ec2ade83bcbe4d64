"""The committed shared feature rows (test-vectors/features-v1.json) are what the Python feature
pipeline computes from the committed spec, items and histories; the TypeScript side
(libs/ranking) checks itself against the same file."""
import json

import numpy as np
import pytest

from ops.training import features as F
from ops.training.gen_test_vectors import DEFAULT_OUT, build_vectors, rows_features
from ops.training.sdim_fast import FastSdim
from ops.training.sdim_ref import BucketTables


@pytest.fixture(scope="module")
def vectors():
    return json.loads(DEFAULT_OUT.read_text(encoding="utf-8"))


def test_fnv1a32_known_values():
    assert F.fnv1a32("") == 0x811C9DC5
    assert F.fnv1a32("a") == 0xE40C292C
    assert F.fnv1a32("foobar") == 0xBF9CF968
    assert F.fnv1a32("é") == F.fnv1a32("\u00e9")  # hashed over UTF-8 bytes


def test_committed_rows_are_reproduced(vectors):
    requests = [{k: r[k] for k in ("userId", "itemId", "domain")} for r in vectors["rows"]]
    got = rows_features(vectors["spec"], vectors["items"], vectors["histories"], requests)
    assert got == vectors["rows"]


def test_sdim_interest_of_committed_rows_equals_the_reference_tables(vectors):
    s = vectors["spec"]["sdim"]
    ref = FastSdim.from_spec(s).ref
    emb = {it["itemId"]: it["embedding"] for it in vectors["items"]}
    d = vectors["spec"]["embedding"]["dim"]
    for row in vectors["rows"]:
        hist = vectors["histories"].get(row["userId"], [])
        q = emb.get(row["itemId"], [0.0] * d)
        if hist:
            t = BucketTables(ref)
            for h in hist:
                t.add(emb[h])
            want = np.array(t.interest(q, s["normalize"]), dtype=np.float32)
        else:
            want = np.zeros(d, np.float32)
        assert np.array_equal(np.array(row["features"]["sdim_interest"], dtype=np.float32), want), row["itemId"]


def test_vectors_cover_the_defaults(vectors):
    rows = vectors["rows"]
    spec = vectors["spec"]
    item_ids = {it["itemId"] for it in vectors["items"]}
    assert any(r["itemId"] not in item_ids for r in rows), "an unknown item"
    assert any(r["userId"] not in vectors["histories"] for r in rows), "a user without history"
    assert any(not any(it["embedding"]) for it in vectors["items"]), "an item without an embedding"
    assert any("year" not in it for it in vectors["items"]), "an item with an unknown year"
    unknown = next(r for r in rows if r["itemId"] not in item_ids)
    dense = unknown["features"]["item_dense"]
    assert dense[:-1] == [0.0] * len(spec["itemDense"]["genres"])
    assert dense[-1] == float(np.float32(spec["itemDense"]["yearDefault"]))
    assert unknown["features"]["item_emb"] == [0.0] * spec["embedding"]["dim"]


def test_regenerated_vectors_match_the_committed_file(vectors):
    """Everything but the SVD embeddings is exact; those may differ in the last float32 bit on
    another LAPACK, hence the tolerance."""
    fresh = build_vectors()
    assert fresh["spec"] == vectors["spec"] and fresh["histories"] == vectors["histories"]
    assert [r["itemId"] for r in fresh["rows"]] == [r["itemId"] for r in vectors["rows"]]
    a = np.array([it["embedding"] for it in fresh["items"]])
    b = np.array([it["embedding"] for it in vectors["items"]])
    assert np.max(np.abs(a - b)) <= 1e-5
