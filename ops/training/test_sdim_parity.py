"""Parity of ops/training/sdim_ref.py with libs/sdim (TypeScript) through the shared vectors.

Run from the repository root: python3 -m pytest -q ops/training/test_sdim_parity.py
"""
import base64
import json
import pathlib

import pytest

from ops.training.sdim_ref import (BucketTables, GaussianStream, SdimHasher, SplitMix64, decode_tables,
                                   det_log, NORMALIZATIONS)

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "libs" / "sdim" / "test-vectors" / "sdim-v1.json"


@pytest.fixture(scope="module")
def tv():
    return json.loads(VECTORS.read_text())


@pytest.fixture(scope="module")
def hasher(tv):
    c = tv["config"]
    return SdimHasher(c["seed"], c["m"], c["tau"], c["d"])


@pytest.fixture(scope="module")
def tables(tv, hasher):
    t = BucketTables(hasher)
    for b in tv["behaviors"]:
        t.add(b)
    return t


def test_prng_streams_are_bit_exact(tv):
    p = tv["prng"]
    r = SplitMix64(p["seed"])
    assert [str(r.next_u64()) for _ in p["splitmix64"]] == p["splitmix64"]
    r = SplitMix64(p["seed"])
    assert [r.next_double() for _ in p["uniform"]] == p["uniform"]
    g = GaussianStream(SplitMix64(p["seed"]))
    assert [g.next() for _ in p["gaussian"]] == p["gaussian"]
    for x, expected in tv["detLog"]:
        assert det_log(x) == expected


def test_hyperplanes_are_bit_exact(tv, hasher):
    assert hasher.R == tv["R"]


def test_codes_and_signatures_equal(tv, hasher):
    for x, codes, sigs in zip(tv["behaviors"], tv["behaviorCodes"], tv["behaviorSignatures"]):
        assert "".join(map(str, hasher.codes(x))) == codes
        assert hasher.signatures(x) == sigs
    for x, codes, sigs in zip(tv["candidates"], tv["candidateCodes"], tv["candidateSignatures"]):
        assert "".join(map(str, hasher.codes(x))) == codes
        assert hasher.signatures(x) == sigs


def test_counts_equal(tv, tables):
    assert tables.counts == tv["counts"]


@pytest.mark.parametrize("norm", NORMALIZATIONS)
def test_interest_within_1e5(tv, tables, norm):
    got = tables.interest_batch(tv["candidates"], norm)
    want = tv["interest"][norm]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert max(abs(a - b) for a, b in zip(g, w)) <= 1e-5


@pytest.mark.parametrize("norm", NORMALIZATIONS)
def test_interest_is_bitwise_equal_when_following_the_spec_order(tv, tables, norm):
    assert tables.interest_batch(tv["candidates"], norm) == tv["interest"][norm]


def test_encoded_tables_equal_bytes(tv, tables, hasher):
    for dtype in ("i32", "f64", "f32"):
        assert tables.encode(dtype) == base64.b64decode(tv["encodedTables"][dtype])
    for dtype in ("i32", "f64"):
        decoded = decode_tables(base64.b64decode(tv["encodedTables"][dtype]), hasher)
        assert decoded.counts == tables.counts and decoded.sums == tables.sums


def test_add_then_remove_restores_tables(tv, hasher):
    t = BucketTables(hasher)
    for b in tv["behaviors"][:10]:
        t.add(b)
    before = ([list(r) for r in t.sums], list(t.counts))
    for b in tv["behaviors"][10:]:
        t.add(b)
    for b in reversed(tv["behaviors"][10:]):
        t.remove(b)
    assert (t.sums, t.counts) == before
