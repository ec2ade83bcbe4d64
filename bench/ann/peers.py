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
    # The benchmarks' one percentile definition (bench/common/stats.ts): numpy's default, linear.
    pct = lambda p: float(np.quantile(best[1], p))
    return {
        "recallAt10": recall_at(found, truth, k),
        "qps": best[0],
        "p50Ms": pct(0.5),
        "p99Ms": pct(0.99),
        "queries": count,
    }


class Peer:
    """A built index with a sweep: one timed run per sweep setting, rows in the harness's shape."""

    def __init__(self, name, settings, apply, search, params, memory, build, rss_delta):
        self.name, self.settings, self.apply, self.search = name, settings, apply, search
        self.params, self.memory, self.build, self.rss_delta = params, memory, build, rss_delta

    def sweep(self, queries, truth, args, runs):
        out = []
        for setting in self.settings:
            self.apply(setting)
            row = query_loop(self.search, queries, args.k, truth, runs, args.min_queries)
            out.append({
                "index": self.name,
                "params": self.params(setting),
                **row,
                "memoryBytes": int(self.memory),
                "buildSeconds": self.build,
                "rssDeltaBytes": int(self.rss_delta),
            })
            print(f"peers: {self.name} {setting} recall={row['recallAt10']:.4f} qps={row['qps']:.0f}", file=sys.stderr)
        return out


def build_hnswlib(base, args):
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
    print(f"peers: hnswlib built in {build:.1f} s", file=sys.stderr)
    return Peer(
        "hnswlib-python", args.efs, index.set_ef,
        lambda q: index.knn_query(q, k=args.k, num_threads=1)[0][0],
        lambda ef: {"m": m, "efConstruction": args.ef_construction, "ef": ef},
        mem, build, rss_delta,
    )


def build_faiss(base, args):
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
    print(f"peers: faiss built in {build:.1f} s", file=sys.stderr)

    def apply(nprobe):
        index.nprobe = nprobe

    return Peer(
        "faiss-ivfflat", [p for p in args.nprobes if p <= nlist], apply,
        lambda q: index.search(q.reshape(1, -1), args.k)[1][0],
        lambda nprobe: {"nlist": nlist, "nprobe": nprobe, "trainPoints": int(train_n)},
        mem, build, rss_delta,
    )


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


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
    ap.add_argument("--serve", action="store_true",
                    help="build, print a ready line, then answer one JSON line per stdin line {\"sweep\": \"hnswlib\"|\"faiss\"} "
                         "with one timed run per setting (the harness interleaves these with its own runs)")
    args = ap.parse_args()
    args.efs = [int(x) for x in args.efs.split(",")]
    args.nprobes = [int(x) for x in args.nprobes.split(",")]

    base = read_vectors(args.base)
    queries = read_vectors(args.query)
    truth = read_vecs(args.gt, np.int32)[:, : args.k]
    if len(truth) != len(queries):
        raise SystemExit(f"ground truth has {len(truth)} rows for {len(queries)} queries")

    from importlib.metadata import version

    versions = {"numpy": np.__version__}
    peers = {}
    only = args.only.split(",")
    if "hnswlib" in only:
        versions["hnswlib"] = version("hnswlib")
        peers["hnswlib"] = build_hnswlib(base, args)
    if "faiss" in only:
        versions["faiss"] = version("faiss-cpu")
        peers["faiss"] = build_faiss(base, args)
    del base
    header = {"python": platform.python_version(), "versions": versions}
    if args.serve:
        emit({"ready": True, **header, "peers": list(peers)})
        for line in sys.stdin:
            cmd = json.loads(line)
            peer = peers.get(cmd.get("sweep"))
            if peer is None:
                emit({"error": f"unknown peer {cmd.get('sweep')}"})
                continue
            emit({"results": peer.sweep(queries, truth, args, 1)})
        return
    results = []
    for peer in peers.values():
        results += peer.sweep(queries, truth, args, args.runs)
    emit({**header, "results": results})


if __name__ == "__main__":
    main()
