"""The vectorised SDIM path (sdim_fast.py) equals the reference (sdim_ref.py) bit for bit; the
reference equals libs/sdim through test_sdim_parity.py."""
import json
import pathlib

import numpy as np
import pytest

from ops.training.sdim_fast import FastSdim, reference_interest
from ops.training.sdim_ref import NORMALIZATIONS, BucketTables

VECTORS = pathlib.Path(__file__).resolve().parents[3] / "libs" / "sdim" / "test-vectors" / "sdim-v1.json"


def unit_rows(rng, n, d):
    x = rng.normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_shared_vectors_through_the_fast_path():
    tv = json.loads(VECTORS.read_text())
    c = tv["config"]
    for norm in NORMALIZATIONS:
        f = FastSdim(c["seed"], c["m"], c["tau"], c["d"], norm)
        assert np.array_equal(f.R, np.array(tv["R"]))
        assert f.signatures(np.array(tv["behaviors"])).tolist() == tv["behaviorSignatures"]
        assert f.signatures(np.array(tv["candidates"])).tolist() == tv["candidateSignatures"]
        got = f.interest(np.array(tv["behaviors"]), np.array(tv["candidates"]))
        assert np.array_equal(got, np.array(tv["interest"][norm])), norm


def test_codes_equal_the_reference_including_dots_within_rounding_of_zero():
    f = FastSdim(20240501, 48, 3, 32)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 32))
    # Vectors orthogonal to a hyperplane (dot ~ 1e-16): the sign depends on the summation order.
    for i in range(40):
        r = f.R[i % 48]
        v = rng.normal(size=32)
        x[i] = v - (v @ r) / (r @ r) * r
    x[40] = 0.0
    got = f.codes(x)
    assert f.rechecked > 0, "the near-zero dots should have been recomputed in the spec's order"
    want = np.array([f.ref.codes(row.tolist()) for row in x])
    assert np.array_equal(got, want)
    assert np.array_equal(f.signatures(x), np.array([f.ref.signatures(row.tolist()) for row in x]))


@pytest.mark.parametrize("norm", NORMALIZATIONS)
def test_interest_prefix_equals_adding_behaviours_one_by_one(norm):
    f = FastSdim(20240501, 48, 3, 32, norm)
    rng = np.random.default_rng(2)
    hist = unit_rows(rng, 25, 32)
    hist[5] = 0.0  # an item without an embedding
    q = unit_rows(rng, 12, 32)
    q[0] = 0.0
    prefix = np.array([0, 1, 2, 3, 5, 6, 10, 10, 17, 24, 25, 25])
    got = f.interest_prefix(f.signatures(hist), hist, f.signatures(q), prefix)
    t = BucketTables(f.ref)
    added = 0
    for i, p in enumerate(prefix):
        while added < p:
            t.add([float(v) for v in hist[added]])
            added += 1
        want = t.interest([float(v) for v in q[i]], norm)
        assert got[i].tolist() == want, f"row {i} (prefix {p})"


def test_interest_over_a_long_history_equals_the_reference():
    f = FastSdim(20240501, 48, 3, 32)
    rng = np.random.default_rng(3)
    hist, q = unit_rows(rng, 300, 32), unit_rows(rng, 20, 32)
    assert np.array_equal(f.interest(hist, q), reference_interest(f.ref, hist, q))


def test_snap_rejects_out_of_range_embeddings():
    with pytest.raises(ValueError):
        FastSdim.snap(np.array([2048.0]))
