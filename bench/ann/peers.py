#!/usr/bin/env python3
"""Native peers for bench:ann on the same TEXMEX files: Python hnswlib, faiss IndexHNSWFlat,
usearch (PyPI), ScaNN and faiss IVF-Flat.

Prints one JSON object on stdout: {"python": ..., "versions": {...}, "overheadUs": {...},
"results": [...]} where each result has the same shape as the TypeScript harness rows. Queries
run one at a time on one thread (per-query latency for p50/p99), after an untimed recall pass that
doubles as the warm-up, exactly like the Node loop. Each row also carries batchQps: the same
queries answered by one call of the peer's batch API on one thread, so the share of the per-call
overhead (Python, pybind/SWIG, numpy allocations) in the one-at-a-time QPS is visible.

HNSW peers are built for every (M, efConstruction) of the grid and swept over efSearch; ScaNN is
built for every num_leaves and swept over (leaves_to_search, reorder). With --cache DIR a built
index is written there (hnswlib/faiss/usearch files, ScaNN's serialized searcher, plus a JSON with
the build time) and loaded by a later run with the same --cache-key instead of being rebuilt.
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


def log(msg):
    print(f"peers: {msg}", file=sys.stderr, flush=True)


def recall_at(found, truth, k):
    kk = min(10, k)
    total = 0.0
    for f, t in zip(found, truth):
        ts = set(int(x) for x in t[:kk])
        total += len(ts.intersection(int(x) for x in f[:kk])) / len(ts)
    return total / len(found)


def query_loop(search, queries, k, truth, runs, min_queries):
    """Mirror of queryLoop in bench/ann/measure.ts: an untimed pass that records the answers (and
    warms up), then `runs` timed runs over the query set repeated to >= min_queries, one query at a
    time; the fastest run is reported."""
    found = [search(q) for q in queries]
    count = len(queries)
    total = max(1, -(-min_queries // count)) * count
    best = None
    for _ in range(max(1, runs)):
        lat = np.empty(total)
        t0 = time.perf_counter()
        for t in range(total):
            q = queries[t % count]
            s = time.perf_counter()
            search(q)
            lat[t] = (time.perf_counter() - s) * 1000.0
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


def batch_qps(batch, queries, min_queries):
    """Throughput of one batch call (one thread) over the query set tiled to >= min_queries rows."""
    reps = max(1, -(-min_queries // len(queries)))
    tiled = np.ascontiguousarray(np.tile(queries, (reps, 1)))
    batch(tiled[: min(len(tiled), 50)])  # warm-up
    t0 = time.perf_counter()
    batch(tiled)
    return len(tiled) / (time.perf_counter() - t0)


class Peer:
    """A built index with a sweep: one timed run per sweep setting, rows in the harness's shape."""

    def __init__(self, name, settings, apply, search, batch, params, memory, build, rss_delta, extra=None):
        self.name, self.settings, self.apply, self.search, self.batch = name, settings, apply, search, batch
        self.params, self.memory, self.build, self.rss_delta = params, memory, build, rss_delta
        self.extra = extra or {}

    def sweep(self, queries, truth, args, runs):
        out = []
        for setting in self.settings:
            self.apply(setting)
            row = query_loop(self.search, queries, args.k, truth, runs, args.min_queries)
            bq = batch_qps(self.batch, queries, args.min_queries)
            out.append({
                "index": self.name,
                "params": self.params(setting),
                **row,
                "batchQps": bq,
                "memoryBytes": int(self.memory),
                "buildSeconds": self.build,
                "rssDeltaBytes": int(self.rss_delta),
                **self.extra,
            })
            log(f"{self.name} {self.params(setting)} recall={row['recallAt10']:.4f} qps={row['qps']:.0f} batch={bq:.0f}")
        return out


class Cache:
    """Built indexes on disk, keyed by data set, peer and build parameters (--cache DIR --cache-key KEY)."""

    def __init__(self, root, key):
        self.root, self.key = root, key
        if root:
            os.makedirs(root, exist_ok=True)

    def path(self, peer, tag):
        return os.path.join(self.root, f"{self.key}-{peer}-{tag}") if self.root else None

    def load(self, peer, tag, loader):
        """(index, build seconds, rss delta) from the cache, or None."""
        p = self.path(peer, tag)
        if p is None or not os.path.exists(p + ".json"):
            return None
        meta = json.load(open(p + ".json"))
        t0 = time.perf_counter()
        index = loader(p)
        log(f"{peer} {tag}: loaded from cache in {time.perf_counter() - t0:.1f} s (built in {meta['buildSeconds']:.1f} s)")
        return index, meta["buildSeconds"], meta.get("rssDeltaBytes", 0)

    def store(self, peer, tag, saver, build, rss_delta):
        p = self.path(peer, tag)
        if p is None:
            return
        saver(p)
        with open(p + ".json", "w") as f:
            json.dump({"buildSeconds": build, "rssDeltaBytes": rss_delta}, f)


def cached_build(cache, peer, tag, build_fn, saver, loader, shared=None):
    """(index, build seconds, rss delta, from cache?) of a build: a file shared by the harness (an
    index it built itself in the same file format), the cache, or a fresh build."""
    if shared is not None:
        path, seconds = shared
        t0 = time.perf_counter()
        index = loader(path)
        log(f"{peer} {tag}: loaded the harness's build {path} in {time.perf_counter() - t0:.1f} s (built in {seconds:.1f} s)")
        return index, seconds, 0, False
    hit = cache.load(peer, tag, loader)
    if hit is not None:
        return hit + (True,)
    r0 = rss_bytes()
    t0 = time.perf_counter()
    index = build_fn()
    build = time.perf_counter() - t0
    rss_delta = rss_bytes() - r0
    log(f"{peer} {tag}: built in {build:.1f} s")
    cache.store(peer, tag, lambda p: saver(index, p), build, rss_delta)
    return index, build, rss_delta, False


def hnsw_layout_bytes(n, dim, m):
    """HnswIndex.memoryBytes' formula (level 0 links + vector + label, upper levels, label map)."""
    return n * ((2 * m + 1) * 4 + dim * 4 + 8) + n * ((m + 1) * 4 / (m - 1) + 8) + n * 40 + n * 2


def build_hnswlib(base, args, cache, m, efc):
    import hnswlib

    n, dim = base.shape

    def build():
        index = hnswlib.Index(space="l2", dim=dim)
        index.init_index(max_elements=n, ef_construction=efc, M=m, random_seed=100)
        index.set_num_threads(1)
        index.add_items(base, np.arange(n), num_threads=1)
        return index

    def load(p):
        index = hnswlib.Index(space="l2", dim=dim)
        index.load_index(p, max_elements=n)
        return index

    shared = args.shared.get(f"hnswlib-m{m}-efc{efc}")
    index, build_s, rss_delta, hit = cached_build(cache, "hnswlib", f"m{m}-efc{efc}", build, lambda ix, p: ix.save_index(p), load, shared)
    index.set_num_threads(1)
    return Peer(
        "hnswlib-python", args.efs, index.set_ef,
        lambda q: index.knn_query(q, k=args.k, num_threads=1)[0][0],
        lambda Q: index.knn_query(Q, k=args.k, num_threads=1),
        lambda ef: {"m": m, "efConstruction": efc, "ef": ef},
        hnsw_layout_bytes(n, dim, m), build_s, rss_delta, {"cached": hit, **({"sharedBuild": "hnsw"} if shared else {})},
    )


def build_faiss_hnsw(base, args, cache, m, efc):
    import faiss

    faiss.omp_set_num_threads(1)
    n, dim = base.shape

    def build():
        index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_L2)
        index.hnsw.efConstruction = efc
        faiss.omp_set_num_threads(args.build_threads)
        index.add(base)
        faiss.omp_set_num_threads(1)
        return index

    index, build_s, rss_delta, hit = cached_build(cache, "faiss-hnsw", f"m{m}-efc{efc}", build, lambda ix, p: faiss.write_index(ix, p), faiss.read_index)

    def apply(ef):
        index.hnsw.efSearch = ef

    # faiss HNSW: vectors, level-0 links (2M int32), upper levels (M int32 on 1/(M-1) levels per node), offsets, levels.
    mem = n * dim * 4 + n * 2 * m * 4 + n * (m * 4 / (m - 1)) + n * 8 + n * 4
    return Peer(
        "faiss-hnsw", args.efs, apply,
        lambda q: index.search(q.reshape(1, -1), args.k)[1][0],
        lambda Q: index.search(Q, args.k),
        lambda ef: {"m": m, "efConstruction": efc, "ef": ef},
        mem, build_s, rss_delta, {"cached": hit},
    )


def build_usearch(base, args, cache, m, efc):
    from usearch.index import Index

    n, dim = base.shape

    def make():
        return Index(ndim=dim, metric="l2sq", dtype="f32", connectivity=m, expansion_add=efc, expansion_search=args.efs[0])

    def build():
        index = make()
        index.add(np.arange(n, dtype=np.uint64), base, threads=args.build_threads)
        return index

    def load(p):
        index = make()
        index.load(p)
        return index

    shared = args.shared.get(f"usearch-m{m}-efc{efc}")
    index, build_s, rss_delta, hit = cached_build(cache, "usearch", f"m{m}-efc{efc}", build, lambda ix, p: ix.save(p), load, shared)

    def apply(ef):
        index.expansion_search = ef

    return Peer(
        "usearch-python", args.efs, apply,
        lambda q: index.search(q, args.k, threads=1).keys,
        lambda Q: index.search(Q, args.k, threads=1),
        lambda ef: {"m": m, "efConstruction": efc, "ef": ef},
        index.memory_usage, build_s, rss_delta, {"cached": hit, **({"sharedBuild": "usearch-npm"} if shared else {})},
    )


def build_scann(base, args, cache, leaves):
    import scann

    n, dim = base.shape
    train = min(n, max(leaves * 100, 100000))

    def build():
        return (
            scann.scann_ops_pybind.builder(base, args.k, "squared_l2")
            .tree(num_leaves=leaves, num_leaves_to_search=min(leaves, 10), training_sample_size=train)
            .score_ah(2, anisotropic_quantization_threshold=float("nan"))
            .reorder(max(args.scann_reorder))
            .set_n_training_threads(args.build_threads)
            .build()
        )

    def save(s, p):
        os.makedirs(p, exist_ok=True)
        s.serialize(p)

    index, build_s, rss_delta, hit = cached_build(cache, "scann", f"leaves{leaves}", build, save, scann.scann_ops_pybind.load_searcher)
    settings = [(ls, r) for ls in args.scann_search if ls <= leaves for r in args.scann_reorder]
    state = {"ls": settings[0][0], "r": settings[0][1]}

    def apply(s):
        state["ls"], state["r"] = s

    return Peer(
        "scann", settings, apply,
        lambda q: index.search(q, final_num_neighbors=args.k, pre_reorder_num_neighbors=state["r"], leaves_to_search=state["ls"])[0],
        lambda Q: index.search_batched(Q, final_num_neighbors=args.k, pre_reorder_num_neighbors=state["r"], leaves_to_search=state["ls"]),
        lambda s: {"numLeaves": leaves, "leavesToSearch": s[0], "reorder": s[1], "ahDimsPerBlock": 2, "trainPoints": train},
        # Resident: the reorder copy of the vectors (float32) + 4-bit AH codes (dims/2 per point) + centroids.
        n * dim * 4 + n * dim // 2 * 0.5 + leaves * dim * 4 + n * 4, build_s, rss_delta, {"cached": hit},
    )


def build_faiss_ivf(base, args, cache):
    import faiss

    faiss.omp_set_num_threads(1)
    n, dim = base.shape
    nlist = args.nlist or max(1, int(round(4 * math.sqrt(n))))
    # faiss warns below 39 training points per list; 39 per list (at least 50k) keeps single-thread
    # k-means on 1M points to about a minute.
    train_n = min(n, max(nlist * 39, 50000))

    def build():
        quantizer = faiss.IndexFlatL2(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_L2)
        rng = np.random.default_rng(args.seed)
        sample = base if train_n == n else base[rng.choice(n, train_n, replace=False)]
        index.train(sample)
        index.add(base)
        return index

    index, build_s, rss_delta, hit = cached_build(cache, "faiss-ivfflat", f"nlist{nlist}", build, lambda ix, p: faiss.write_index(ix, p), faiss.read_index)
    mem = n * dim * 4 + n * 8 + nlist * dim * 4 + nlist * 64

    def apply(nprobe):
        index.nprobe = nprobe

    return Peer(
        "faiss-ivfflat", [p for p in args.nprobes if p <= nlist], apply,
        lambda q: index.search(q.reshape(1, -1), args.k)[1][0],
        lambda Q: index.search(Q, args.k),
        lambda nprobe: {"nlist": nlist, "nprobe": nprobe, "trainPoints": int(train_n)},
        mem, build_s, rss_delta, {"cached": hit},
    )


def call_overhead_us(dim, k, only):
    """Median wall time (µs) of one trivial call through each peer's Python API: a 16-point index
    (ScaNN: a brute-force searcher over 16 points), one query, one thread, timed the same way as the
    query loop. 'loopFloor' is the same loop around a Python function that returns at once."""
    rng = np.random.default_rng(7)
    db = rng.random((16, dim), dtype=np.float32)
    q = db[3].copy()
    calls = {"loopFloor": lambda: None}
    if "hnswlib" in only:
        import hnswlib

        h = hnswlib.Index(space="l2", dim=dim)
        h.init_index(max_elements=16, M=16, ef_construction=100)
        h.add_items(db, np.arange(16), num_threads=1)
        h.set_ef(10)
        calls["hnswlib-python"] = lambda: h.knn_query(q, k=min(k, 16), num_threads=1)[0][0]
    if "faiss-hnsw" in only:
        import faiss

        faiss.omp_set_num_threads(1)
        f = faiss.IndexHNSWFlat(dim, 16)
        f.add(db)
        q2 = q.reshape(1, -1)
        calls["faiss-hnsw"] = lambda: f.search(q2, min(k, 16))[1][0]
    if "usearch" in only:
        from usearch.index import Index

        u = Index(ndim=dim, metric="l2sq", dtype="f32", connectivity=16, expansion_add=64, expansion_search=10)
        u.add(np.arange(16, dtype=np.uint64), db, threads=1)
        calls["usearch-python"] = lambda: u.search(q, min(k, 16), threads=1).keys
    if "scann" in only:
        import scann

        s = scann.scann_ops_pybind.builder(db, min(k, 16), "squared_l2").score_brute_force().build()
        calls["scann"] = lambda: s.search(q)[0]
    out = {}
    for name, fn in calls.items():
        for _ in range(200):
            fn()
        lat = np.empty(5000)
        for i in range(5000):
            t = time.perf_counter()
            fn()
            lat[i] = time.perf_counter() - t
        out[name] = float(np.median(lat) * 1e6)
    return out


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def ints(s):
    return [int(x) for x in s.split(",") if x]


HNSW_PEERS = {"hnswlib": build_hnswlib, "faiss-hnsw": build_faiss_hnsw, "usearch": build_usearch}
ALL_PEERS = ["hnswlib", "faiss-hnsw", "usearch", "scann", "faiss"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--query", required=True)
    ap.add_argument("--gt", required=True)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--m", default="16", help="HNSW M values (comma list)")
    ap.add_argument("--ef-construction", default="200", help="HNSW efConstruction values (comma list)")
    ap.add_argument("--efs", default="10,20,40,80,160")
    ap.add_argument("--nprobes", default="1,2,4,8,16,32,64,128")
    ap.add_argument("--nlist", type=int, default=0)
    ap.add_argument("--scann-leaves", default="", help="ScaNN num_leaves values (default round(sqrt(n)))")
    ap.add_argument("--scann-search", default="1,2,4,8,16,32,64,128,256", help="ScaNN leaves_to_search sweep")
    ap.add_argument("--scann-reorder", default="20,50,100,200", help="ScaNN pre-reorder candidates sweep")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--min-queries", type=int, default=1000)
    ap.add_argument("--only", default=",".join(ALL_PEERS))
    ap.add_argument("--cache", default="", help="directory of built indexes (reused when --cache-key matches)")
    ap.add_argument("--cache-key", default="")
    ap.add_argument("--build-threads", type=int, default=1, help="threads for builds (queries always run on one)")
    ap.add_argument("--shared", default="",
                    help="indexes the harness built in the same file format, loaded instead of built: "
                         "comma list of NAME=PATH@BUILDSECONDS with NAME hnswlib-mM-efcE or usearch-mM-efcE")
    ap.add_argument("--serve", action="store_true",
                    help="build, print a ready line, then answer one JSON line per stdin line {\"sweep\": PEER} "
                         "with one timed run per setting (the harness interleaves these with its own runs)")
    args = ap.parse_args()
    args.ms = ints(args.m)
    args.efcs = ints(args.ef_construction)
    args.efs = ints(args.efs)
    args.nprobes = ints(args.nprobes)
    args.scann_search = ints(args.scann_search)
    args.scann_reorder = ints(args.scann_reorder)
    shared = {}
    for item in [x for x in args.shared.split(",") if x]:
        name, rest = item.split("=", 1)
        path, seconds = rest.rsplit("@", 1)
        shared[name] = (path, float(seconds))
    args.shared = shared
    if args.cache and not args.cache_key:
        raise SystemExit("--cache needs --cache-key")

    base = read_vectors(args.base)
    queries = read_vectors(args.query)
    truth = read_vecs(args.gt, np.int32)[:, : args.k]
    if len(truth) != len(queries):
        raise SystemExit(f"ground truth has {len(truth)} rows for {len(queries)} queries")
    n, dim = base.shape
    cache = Cache(args.cache, args.cache_key)

    from importlib.metadata import version

    versions = {"numpy": np.__version__}
    dists = {"hnswlib": "hnswlib", "faiss-hnsw": "faiss-cpu", "faiss": "faiss-cpu", "usearch": "usearch", "scann": "scann"}
    only = [p for p in args.only.split(",") if p]
    unknown = [p for p in only if p not in ALL_PEERS]
    if unknown:
        raise SystemExit(f"unknown peers {unknown} (known: {ALL_PEERS})")
    peers = {}  # peer name -> list of built Peer (one per build configuration)
    for name in only:
        versions[dists[name]] = version(dists[name])
        if name in HNSW_PEERS:
            peers[name] = [HNSW_PEERS[name](base, args, cache, m, efc) for m in args.ms for efc in args.efcs]
        elif name == "scann":
            leaves = ints(args.scann_leaves) or [max(1, int(round(math.sqrt(n))))]
            peers[name] = [build_scann(base, args, cache, lv) for lv in leaves]
        else:
            peers[name] = [build_faiss_ivf(base, args, cache)]
    del base
    overhead = call_overhead_us(dim, args.k, only)
    log(f"per-call overhead (µs, trivial 16-point index): {json.dumps({k: round(v, 2) for k, v in overhead.items()})}")
    try:
        import usearch.index as ui

        hw = {"usearch": ui.Index(ndim=dim, metric="l2sq", dtype="f32").hardware_acceleration} if "usearch" in only else {}
    except Exception:  # noqa: BLE001 - informational only
        hw = {}
    header = {"python": platform.python_version(), "versions": versions, "overheadUs": overhead, "hardware": hw}
    if args.serve:
        emit({"ready": True, **header, "peers": list(peers)})
        for line in sys.stdin:
            cmd = json.loads(line)
            built = peers.get(cmd.get("sweep"))
            if built is None:
                emit({"error": f"unknown peer {cmd.get('sweep')}"})
                continue
            emit({"results": [r for p in built for r in p.sweep(queries, truth, args, 1)]})
        return
    results = []
    for built in peers.values():
        for p in built:
            results += p.sweep(queries, truth, args, args.runs)
    emit({**header, "results": results})


if __name__ == "__main__":
    main()
