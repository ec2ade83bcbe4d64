"""Vectorised SDIM (numpy) that gives bit for bit the results of sdim_ref.py / libs/sdim.

Why it is exact (libs/sdim/SPEC.md):
- codes: the fast path takes dot products with a BLAS matmul, whose summation order differs from
  the spec's; a code can then differ only where |dot| is within the rounding error of 0. The error
  of either order is at most gamma_d * sum_k |R_ik x_k| (gamma_d = d u / (1 - d u), u = 2^-53), so
  wherever |fast dot| > 2 gamma_d * that sum both orders give the same sign; every other entry
  (in practice a handful, plus the zero vector) is recomputed in the spec's order.
- tables: embeddings enter the sums snapped to the 2^-16 grid, so every partial sum is exact in
  float64 and cumulative sums equal the reference's one-by-one additions in any order.
- normalisation and interest: the per-bucket l2 norm and the sum over groups are accumulated in
  the spec's index order (a Python loop over k or j with vectorised numpy ufuncs, no reductions
  that reorder: np.sum is pairwise), with the same float64 operations (*, +, sqrt, /).
tests/test_sdim_fast.py checks all of it against sdim_ref.py, which test_sdim_parity.py checks
against libs/sdim's test vectors.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .sdim_ref import DEFAULT_NORMALIZATION, NORMALIZATIONS, SNAP_SCALE, SdimHasher, _dot

# 2 * gamma_d with a wide margin (d <= 4096): entries below this times sum|R x| are recomputed.
_REL_MARGIN = 1e-12


class FastSdim:
    def __init__(self, seed: int, m: int, tau: int, d: int, normalize: str = DEFAULT_NORMALIZATION):
        if normalize not in NORMALIZATIONS:
            raise ValueError(normalize)
        self.ref = SdimHasher(seed, m, tau, d)
        self.seed, self.m, self.tau, self.d, self.normalize = seed, m, tau, d, normalize
        self.groups = m // tau
        self.buckets = 1 << tau
        self.R = np.asarray(self.ref.R, dtype=np.float64)
        self.rechecked = 0  # how many codes the last calls recomputed in the spec's order

    @classmethod
    def from_spec(cls, sdim: dict) -> "FastSdim":
        return cls(sdim["seed"], sdim["m"], sdim["tau"], sdim["d"], sdim.get("normalize", DEFAULT_NORMALIZATION))

    def codes(self, X: np.ndarray) -> np.ndarray:
        """[n, m] uint8 codes of the rows of X (taken as float64), equal to SdimHasher.codes."""
        X = np.ascontiguousarray(np.asarray(X, dtype=np.float64).reshape(-1, self.d))
        dots = X @ self.R.T
        bound = np.abs(X) @ np.abs(self.R).T
        out = (dots > 0.0).astype(np.uint8)
        # bound == 0: every product R_ik x_k is 0, so the dot is exactly 0 in any order (code 0).
        unsure = np.argwhere((np.abs(dots) <= _REL_MARGIN * bound) & (bound > 0.0))
        for i, r in unsure:
            out[i, r] = 1 if _dot(self.ref.R[r], X[i].tolist()) > 0.0 else 0
        self.rechecked = len(unsure)
        return out

    def signatures(self, X: np.ndarray) -> np.ndarray:
        """[n, G] int64 signatures, equal to SdimHasher.signatures."""
        c = self.codes(X).reshape(-1, self.groups, self.tau).astype(np.int64)
        return (c << np.arange(self.tau, dtype=np.int64)).sum(axis=2)

    @staticmethod
    def snap(X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if np.any(np.abs(X) > 1024):
            raise ValueError("SDIM embeddings need |x| <= 1024")
        return np.floor(X * SNAP_SCALE + 0.5) / SNAP_SCALE

    def _normalized(self, S: np.ndarray, C: np.ndarray) -> np.ndarray:
        """Bucket sums S [..., d] with counts C [...] -> normalised rows, spec section 4."""
        if self.normalize in ("none", "pooled"):  # pooled divides after the sum over groups
            return np.where((C > 0)[..., None], S, 0.0)
        if self.normalize == "count":
            div = C.astype(np.float64)
        else:
            div = np.zeros(S.shape[:-1])
            for k in range(self.d):  # index order, like the reference
                div = div + S[..., k] * S[..., k]
            div = np.sqrt(div)
        ok = (C > 0) & (div != 0.0)
        safe = np.where(ok, div, 1.0)
        return np.where(ok[..., None], S / safe[..., None], 0.0)

    def _combine(self, V: np.ndarray, C: np.ndarray) -> np.ndarray:
        """V [n, G, d] with counts C [n, G] -> interest [n, d]: sum over groups in order from 0.0,
        then / G, or for 'pooled' / the sum of the selected counts (0 selected: the zero vector)."""
        acc = np.zeros((V.shape[0], self.d))
        for j in range(self.groups):
            acc = acc + V[:, j, :]
        if self.normalize != "pooled":
            return acc / float(self.groups)
        n = C.sum(axis=1).astype(np.float64)  # integers: exact in any order
        return np.where((n > 0)[:, None], acc / np.where(n > 0, n, 1.0)[:, None], 0.0)

    def interest_prefix(self, hist_sigs: np.ndarray, hist_emb: np.ndarray, q_sigs: np.ndarray,
                        prefix: np.ndarray) -> np.ndarray:
        """Interest of candidate i over the first prefix[i] behaviours of one history.

        hist_sigs [L, G] and hist_emb [L, d] are the behaviours in time order; q_sigs [n, G] the
        candidates' signatures; prefix [n] in 0..L. Returns float64 [n, d], equal to adding those
        behaviours to a BucketTables and calling interest() with the candidate."""
        n, L, G, d = len(q_sigs), len(hist_sigs), self.groups, self.d
        prefix = np.asarray(prefix, dtype=np.int64)
        if n == 0:
            return np.zeros((0, d))
        snapped = self.snap(hist_emb).reshape(L, d)
        S = np.zeros((n, G, d))
        C = np.zeros((n, G), dtype=np.int64)
        if L:
            for j in range(G):
                onehot = hist_sigs[:, j][:, None] == np.arange(self.buckets)[None, :]  # [L, NB]
                # Cumulative sums, row 0 = empty history; exact because snapped sums are exact.
                cs = np.zeros((L + 1, self.buckets, d))
                np.cumsum(onehot[:, :, None] * snapped[:, None, :], axis=0, out=cs[1:])
                cc = np.zeros((L + 1, self.buckets), dtype=np.int64)
                np.cumsum(onehot, axis=0, out=cc[1:])
                S[:, j, :] = cs[prefix, q_sigs[:, j]]
                C[:, j] = cc[prefix, q_sigs[:, j]]
        return self._combine(self._normalized(S, C), C)

    def interest(self, hist_emb: np.ndarray, queries: np.ndarray) -> np.ndarray:
        """Interest of each query over the whole history (float64 [n, d])."""
        hist_emb = np.asarray(hist_emb, dtype=np.float64).reshape(-1, self.d)
        queries = np.asarray(queries, dtype=np.float64).reshape(-1, self.d)
        hs = self.signatures(hist_emb) if len(hist_emb) else np.zeros((0, self.groups), dtype=np.int64)
        return self.interest_prefix(hs, hist_emb, self.signatures(queries),
                                    np.full(len(queries), len(hist_emb)))

    def spec(self) -> dict:
        return {"seed": self.seed, "m": self.m, "tau": self.tau, "d": self.d, "normalize": self.normalize}


def reference_interest(hasher: SdimHasher, history: Sequence[Sequence[float]], queries, normalize=DEFAULT_NORMALIZATION):
    """The slow exact path (sdim_ref.BucketTables), for tests and spot checks."""
    from .sdim_ref import BucketTables
    t = BucketTables(hasher)
    for x in history:
        t.add([float(v) for v in x])
    return np.asarray(t.interest_batch([[float(v) for v in q] for q in queries], normalize))
