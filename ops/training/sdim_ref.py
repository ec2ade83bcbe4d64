"""Reference implementation of SDIM hashing and bucket tables (pure Python, no dependencies).

It follows libs/sdim/SPEC.md step by step and reproduces the TypeScript implementation
(libs/sdim) bit for bit: the hyperplanes, the codes, the signatures and the interest vectors.
ops/training/test_sdim_parity.py checks it against libs/sdim/test-vectors/sdim-v1.json.

Only IEEE-754 float64 + - * / and sqrt are used where results must match (no math.log, no
math.cos: their last bit is libm-dependent), and every sum runs from 0.0 in index order.
Training code that computes codes with a float32 matmul may flip a code whose dot product is
within rounding of 0; use codes()/signatures() from here (or float64 in index order) when exact
parity matters.
"""
from __future__ import annotations

import base64
import math
import struct
from typing import List, Sequence

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
TWO_POW_NEG53 = 1.0 / 9007199254740992.0
LN2 = 0.6931471805599453
SQRT_HALF = 0.7071067811865476
LOG_TERMS = 30
SNAP_SCALE = 65536.0  # 2^16, the fixed-point grid
NORMALIZATIONS = ("l2", "count", "none", "pooled")
DEFAULT_NORMALIZATION = "pooled"  # libs/sdim DEFAULT_NORMALIZATION
DTYPE_CODES = {"f32": 1, "f64": 2, "i32": 3}


class SplitMix64:
    def __init__(self, seed: int):
        if not 0 <= seed <= MASK64:
            raise ValueError("seed must be a uint64")
        self.state = seed

    def next_u64(self) -> int:
        self.state = (self.state + GOLDEN) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * MIX1) & MASK64
        z = ((z ^ (z >> 27)) * MIX2) & MASK64
        return z ^ (z >> 31)

    def next_double(self) -> float:
        return float(self.next_u64() >> 11) * TWO_POW_NEG53


def det_log(x: float) -> float:
    """ln(x) with + - * / only (SPEC.md, section PRNG)."""
    if not (x > 0.0) or math.isinf(x):
        raise ValueError("det_log needs a finite positive number")
    mant = x
    e = 0
    while mant >= 2.0:
        mant *= 0.5
        e += 1
    while mant < 1.0:
        mant *= 2.0
        e -= 1
    if mant >= 2.0 * SQRT_HALF:
        mant *= 0.5
        e += 1
    t = (mant - 1.0) / (mant + 1.0)
    t2 = t * t
    p = 1.0 / float(2 * (LOG_TERMS - 1) + 1)
    for k in range(LOG_TERMS - 2, -1, -1):
        p = p * t2 + 1.0 / float(2 * k + 1)
    return float(e) * LN2 + 2.0 * t * p


class GaussianStream:
    """Marsaglia polar method; emits u*f then v*f."""

    def __init__(self, rng: SplitMix64):
        self.rng = rng
        self.spare = None

    def next(self) -> float:
        if self.spare is not None:
            v, self.spare = self.spare, None
            return v
        while True:
            u = 2.0 * self.rng.next_double() - 1.0
            v = 2.0 * self.rng.next_double() - 1.0
            s = u * u + v * v
            if s >= 1.0 or s == 0.0:
                continue
            f = math.sqrt((-2.0 * det_log(s)) / s)
            self.spare = v * f
            return u * f


def hyperplanes(seed: int, m: int, d: int) -> List[List[float]]:
    """R as m rows of d float64 values, drawn row by row."""
    g = GaussianStream(SplitMix64(seed))
    return [[g.next() for _ in range(d)] for _ in range(m)]


def _dot(r: Sequence[float], x: Sequence[float]) -> float:
    acc = 0.0
    for a, b in zip(r, x):
        acc += a * b
    return acc


class SdimHasher:
    def __init__(self, seed: int, m: int, tau: int, d: int):
        if m % tau:
            raise ValueError("m must be a multiple of tau")
        self.seed, self.m, self.tau, self.d = seed, m, tau, d
        self.groups = m // tau
        self.buckets = 1 << tau
        self.R = hyperplanes(seed, m, d)

    def codes(self, x: Sequence[float]) -> List[int]:
        x = [float(v) for v in x]
        return [1 if _dot(row, x) > 0.0 else 0 for row in self.R]

    def signatures(self, x: Sequence[float]) -> List[int]:
        c = self.codes(x)
        return [sum(c[j * self.tau + b] << b for b in range(self.tau)) for j in range(self.groups)]


def snap(x: float) -> float:
    return float(math.floor(float(x) * SNAP_SCALE + 0.5)) / SNAP_SCALE


class BucketTables:
    """sums[b][k], counts[b] with b = group * 2^tau + signature; sums hold snapped embeddings."""

    def __init__(self, hasher: SdimHasher):
        self.h = hasher
        n = hasher.groups * hasher.buckets
        self.sums = [[0.0] * hasher.d for _ in range(n)]
        self.counts = [0] * n

    def _update(self, x: Sequence[float], sign: int) -> None:
        sigs = self.h.signatures(x)
        for j, c in enumerate(sigs):
            b = j * self.h.buckets + c
            self.counts[b] += sign
            if self.counts[b] < 0:
                raise ValueError("remove from an empty bucket")
            if self.counts[b] == 0:
                self.sums[b] = [0.0] * self.h.d
            else:
                row = self.sums[b]
                for k in range(self.h.d):
                    row[k] += sign * snap(x[k])

    def add(self, x: Sequence[float]) -> None:
        self._update(x, 1)

    def remove(self, x: Sequence[float]) -> None:
        self._update(x, -1)

    def normalized_buckets(self, normalize: str = DEFAULT_NORMALIZATION) -> List[List[float]]:
        d = self.h.d
        out = []
        for s, count in zip(self.sums, self.counts):
            if count == 0:
                out.append([0.0] * d)
                continue
            if normalize in ("none", "pooled"):  # pooled divides after the gather
                out.append(list(s))
                continue
            if normalize == "l2":
                ss = 0.0
                for v in s:
                    ss += v * v
                div = math.sqrt(ss)
                if div == 0.0:
                    out.append([0.0] * d)
                    continue
            elif normalize == "count":
                div = float(count)
            else:
                raise ValueError(normalize)
            out.append([v / div for v in s])
        return out

    def interest_batch(self, qs: Sequence[Sequence[float]], normalize: str = DEFAULT_NORMALIZATION) -> List[List[float]]:
        v = self.normalized_buckets(normalize)
        g, nb, d = self.h.groups, self.h.buckets, self.h.d
        out = []
        for q in qs:
            sigs = self.h.signatures(q)
            acc = [0.0] * d
            selected = 0
            for j in range(g):
                row = v[j * nb + sigs[j]]
                selected += self.counts[j * nb + sigs[j]]
                for k in range(d):
                    acc[k] += row[k]
            div = float(selected) if normalize == "pooled" else float(g)
            out.append([a / div for a in acc] if div != 0.0 else [0.0] * d)
        return out

    def interest(self, q: Sequence[float], normalize: str = DEFAULT_NORMALIZATION) -> List[float]:
        return self.interest_batch([q], normalize)[0]

    # Codec (libs/sdim/src/codec.ts, format version 1). dtype: "i32" (fixed point, sum * 2^16 as
    # int32, exact), "f64" (exact) or "f32" (lossy).
    def encode(self, dtype: str = "i32") -> bytes:
        idx = [b for b, c in enumerate(self.counts) if c > 0]
        n, d = len(idx), self.h.d
        counts_off = -(-(24 + 2 * n) // 4) * 4
        sums_off = -(-(counts_off + 4 * n) // 8) * 8
        values = [v for b in idx for v in self.sums[b]]
        if dtype == "i32":
            ints = [v * SNAP_SCALE for v in values]
            if any(i != math.floor(i) or not -2**31 <= i < 2**31 for i in ints):
                raise ValueError("a sum does not fit the int32 fixed-point encoding")
            payload = struct.pack("<%di" % len(ints), *[int(i) for i in ints])
        else:
            payload = struct.pack("<%d%s" % (len(values), "f" if dtype == "f32" else "d"), *values)
        out = bytearray(sums_off)
        struct.pack_into("<IBBBBHHII", out, 0, 0x4D494453, 1, DTYPE_CODES[dtype], self.h.tau, 0,
                         self.h.m, d, self.h.seed, n)
        struct.pack_into("<%dH" % n, out, 24, *idx)
        struct.pack_into("<%dI" % n, out, counts_off, *[self.counts[b] for b in idx])
        return bytes(out) + payload


def decode_tables(blob: bytes, hasher: SdimHasher) -> BucketTables:
    magic, version, dt, tau, _, m, d, seed, n = struct.unpack_from("<IBBBBHHII", blob, 0)
    if magic != 0x4D494453 or version != 1:
        raise ValueError("not an SDIM v1 blob")
    if (seed, m, tau, d) != (hasher.seed, hasher.m, hasher.tau, hasher.d):
        raise ValueError("blob config differs from the hasher")
    counts_off = -(-(24 + 2 * n) // 4) * 4
    sums_off = -(-(counts_off + 4 * n) // 8) * 8
    idx = struct.unpack_from("<%dH" % n, blob, 24)
    counts = struct.unpack_from("<%dI" % n, blob, counts_off)
    if dt == 3:
        sums = [v / SNAP_SCALE for v in struct.unpack_from("<%di" % (n * d), blob, sums_off)]
    else:
        sums = struct.unpack_from("<%d%s" % (n * d, "f" if dt == 1 else "d"), blob, sums_off)
    t = BucketTables(hasher)
    for i, b in enumerate(idx):
        t.counts[b] = counts[i]
        t.sums[b] = list(sums[i * d:(i + 1) * d])
    return t


def decode_base64(s: str, hasher: SdimHasher) -> BucketTables:
    return decode_tables(base64.b64decode(s), hasher)
