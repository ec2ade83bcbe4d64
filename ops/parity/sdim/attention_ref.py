"""Target attention in numpy on one BLAS thread: bench:sdim's cross-check and the attention parity spec.

  attention_ref.py --q Q.f32 --x X.f32 --n 500 --L 1000 --d 32 [--reps 5] [--out O.f32]
  attention_ref.py --check

Q (n x d) and X (L x d) are raw little-endian float32, row-major. Output: softmax(Q X^T / sqrt(d)) X in
float32 (written raw to --out), and one JSON line on stdout: median and min milliseconds over --reps
timed runs after one warm-up, the BLAS numpy uses and its thread count (held at 1 by threadpoolctl;
set OPENBLAS_NUM_THREADS=1 too, so the pool is not even started).
"""
import argparse
import json
import sys
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits


def attention(q: np.ndarray, x: np.ndarray) -> np.ndarray:
    s = q @ x.T
    s *= np.float32(1.0 / np.sqrt(q.shape[1]))
    s -= s.max(axis=1, keepdims=True)
    np.exp(s, out=s)
    s /= s.sum(axis=1, keepdims=True)
    return s @ x


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument('--q')
    p.add_argument('--x')
    p.add_argument('--n', type=int)
    p.add_argument('--L', type=int)
    p.add_argument('--d', type=int)
    p.add_argument('--reps', type=int, default=5)
    p.add_argument('--out')
    p.add_argument('--check', action='store_true')
    a = p.parse_args()
    with threadpool_limits(limits=1):
        if a.check:
            rng = np.random.default_rng(1)
            q = rng.standard_normal((3, 4), dtype=np.float32)
            x = rng.standard_normal((5, 4), dtype=np.float32)
            o = attention(q, x)
            s = (q.astype(np.float64) @ x.T.astype(np.float64)) / 2.0
            w = np.exp(s - s.max(axis=1, keepdims=True))
            ref = (w / w.sum(axis=1, keepdims=True)) @ x.astype(np.float64)
            assert np.allclose(o, ref, atol=1e-5), 'attention check failed'
            print(json.dumps({'check': 'ok', 'numpy': np.__version__}))
            return
        q = np.fromfile(a.q, dtype='<f4').reshape(a.n, a.d)
        x = np.fromfile(a.x, dtype='<f4').reshape(a.L, a.d)
        o = attention(q, x)
        times = []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            o = attention(q, x)
            times.append((time.perf_counter() - t0) * 1e3)
        if a.out:
            o.astype('<f4').tofile(a.out)
        blas = [{'api': i.get('internal_api'), 'threads': i.get('num_threads'), 'version': i.get('version')} for i in threadpool_info()]
        print(json.dumps({'ms': float(np.median(times)), 'minMs': float(min(times)), 'reps': a.reps, 'numpy': np.__version__, 'blas': blas}))


if __name__ == '__main__':
    sys.exit(main())
