#!/usr/bin/env python3
"""Native peers for bench:ann: Python hnswlib and faiss IVF-Flat on the same TEXMEX files.

Prints one JSON object on stdout: {"python": ..., "versions": {...}, "results": [...]} where each
result has the same shape as the TypeScript harness rows. Queries run one at a time on one thread
(per-query latency for p50/p99), after a warm-up pass, exactly like the Node loop.
"""
import argparse
import json
import math
import os
import platform
import sys
import time

import numpy as np


def read_vecs(path, dtype):
    raw = np.fromfile(path, dtype=np.int32)
    if raw.size == 0:
        raise SystemExit(f"{path}: empty file")
    dim = int(raw[0])
    if dtype == np.uint8:
        b = np.fromfile(path, dtype=np.uint8)
        rows = b.reshape(-1, 4 + dim)
        return np.ascontiguousarray(rows[:, 4:].astype(np.float32))
    rows = raw.reshape(-1, dim + 1)
    if not (rows[:, 0] == dim).all():
        raise SystemExit(f"{path}: rows of differing dimension")
    return np.ascontiguousarray(rows[:, 1:].view(dtype))


def read_vectors(path):
    return read_vecs(path, np.uint8 if path.endswith(".bvecs") else np.float32)


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def recall_at(found, truth, k):
    kk = min(10, k)
    total = 0.0
    for f, t in zip(found, truth):
        ts = set(int(x) for x in t[:kk])
        total += len(ts.intersection(int(x) for x in f[:kk])) / len(ts)
    return total / len(found)


def query_loop(search, queries, k, truth, runs, min_queries):
    """Mirror of queryLoop in bench/ann/measure.ts: warm-up, `runs` timed runs over the query set
    repeated to >= min_queries, one query at a time; the fastest run is reported."""
    for q in queries[: min(len(queries), 50)]:
        search(q)
    count = len(queries)
    total = max(1, -(-min_queries // count)) * count
    found = []
    best = None
    for run in range(max(1, runs)):
        lat = np.empty(total)
        t0 = time.perf_counter()
        for t in range(total):
            q = queries[t % count]
            s = time.perf_counter()
            ids = search(q)
            lat[t] = (time.perf_counter() - s) * 1000.0
            if run == 0 and t < count:
                found.append(ids)
        qps = total / (time.perf_counter() - t0)
        if best is None or qps > best[0]:
            best = (qps, lat)
    lat = np.sort(best[1])
    pct = lambda p: float(lat[min(len(lat) - 1, max(0, math.ceil(p * len(lat)) - 1))])
    return {
        "recallAt10": recall_at(found, truth, k),
        "qps": best[0],
        "p50Ms": pct(0.5),
        "p99Ms": pct(0.99),
        "queries": count,
    }


def run_hnswlib(base, queries, truth, args):
    import hnswlib

    n, dim = base.shape
    r0 = rss_bytes()
    t0 = time.perf_counter()
    index = hnswlib.Index(space="l2", dim=dim)
    index.init_index(max_elements=n, ef_construction=args.ef_construction, M=args.m, random_seed=100)
    index.set_num_threads(1)
    index.add_items(base, np.arange(n), num_threads=1)
    build = time.perf_counter() - t0
    rss_delta = rss_bytes() - r0
    m = args.m
    # Same layout formula as HnswIndex.memoryBytes (level 0 links + vector + label, upper levels, label map).
    mem = n * ((2 * m + 1) * 4 + dim * 4 + 8) + n * ((m + 1) * 4 / (m - 1) + 8) + n * 40 + n * 2
    out = []
    for ef in args.efs:
        index.set_ef(ef)
        row = query_loop(lambda q: index.knn_query(q, k=args.k, num_threads=1)[0][0], queries, args.k, truth, args.runs, args.min_queries)
        out.append({
            "index": "hnswlib-python",
            "params": {"m": m, "efConstruction": args.ef_construction, "ef": ef},
            **row,
            "memoryBytes": int(mem),
            "buildSeconds": build,
            "rssDeltaBytes": int(rss_delta),
        })
        print(f"peers: hnswlib ef={ef} recall={row['recallAt10']:.4f} qps={row['qps']:.0f}", file=sys.stderr)
    del index
    return out


def run_faiss(base, queries, truth, args):
    import faiss

    faiss.omp_set_num_threads(1)
    n, dim = base.shape
    nlist = args.nlist or max(1, int(round(4 * math.sqrt(n))))
    r0 = rss_bytes()
    t0 = time.perf_counter()
    quantizer = faiss.IndexFlatL2(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_L2)
    # faiss warns below 39 training points per list; 39 per list (at least 50k) keeps single-thread
    # k-means on 1M points to about a minute.
    train_n = min(n, max(nlist * 39, 50000))
    rng = np.random.default_rng(args.seed)
    sample = base if train_n == n else base[rng.choice(n, train_n, replace=False)]
    index.train(sample)
    index.add(base)
    build = time.perf_counter() - t0
    rss_delta = rss_bytes() - r0
    mem = n * dim * 4 + n * 8 + nlist * dim * 4 + nlist * 64
    out = []
    for nprobe in [p for p in args.nprobes if p <= nlist]:
        index.nprobe = nprobe
        row = query_loop(lambda q: index.search(q.reshape(1, -1), args.k)[1][0], queries, args.k, truth, args.runs, args.min_queries)
        out.append({
            "index": "faiss-ivfflat",
            "params": {"nlist": nlist, "nprobe": nprobe, "trainPoints": int(train_n)},
            **row,
            "memoryBytes": int(mem),
            "buildSeconds": build,
            "rssDeltaBytes": int(rss_delta),
        })
        print(f"peers: faiss nprobe={nprobe} recall={row['recallAt10']:.4f} qps={row['qps']:.0f}", file=sys.stderr)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--query", required=True)
    ap.add_argument("--gt", required=True)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--m", type=int, default=16)
    ap.add_argument("--ef-construction", type=int, default=200)
    ap.add_argument("--efs", default="10,20,40,80,160")
    ap.add_argument("--nprobes", default="1,2,4,8,16,32,64,128")
    ap.add_argument("--nlist", type=int, default=0)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--min-queries", type=int, default=1000)
    ap.add_argument("--only", default="hnswlib,faiss")
    args = ap.parse_args()
    args.efs = [int(x) for x in args.efs.split(",")]
    args.nprobes = [int(x) for x in args.nprobes.split(",")]

    base = read_vectors(args.base)
    queries = read_vectors(args.query)
    truth = read_vecs(args.gt, np.int32)[:, : args.k]
    if len(truth) != len(queries):
        raise SystemExit(f"ground truth has {len(truth)} rows for {len(queries)} queries")

    versions = {"numpy": np.__version__}
    results = []
    only = set(args.only.split(","))
    if "hnswlib" in only:
        import hnswlib  # noqa: F401
        from importlib.metadata import version

        versions["hnswlib"] = version("hnswlib")
        results += run_hnswlib(base, queries, truth, args)
    if "faiss" in only:
        import faiss

        versions["faiss"] = faiss.__version__
        results += run_faiss(base, queries, truth, args)
    json.dump({"python": platform.python_version(), "versions": versions, "results": results}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
