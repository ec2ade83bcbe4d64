#!/usr/bin/env python3
"""SPANN's peers for bench:ann:spann: faiss IVF-Flat (nlist and nprobe swept) and DiskANN's
memory-disk index (diskannpy build_disk_index / StaticDiskIndex: search list L and beam width
swept), on the same TEXMEX files, one query at a time on one thread.

  spann_peers.py gt --base B --query Q --out GT.ivecs [--k 100]
  spann_peers.py prepare --base B --cache DIR [--nlists ..] [--diskann-r 64 --diskann-l 100] [--memory-fraction 0.25]
  spann_peers.py run --base B --query Q --gt GT --cache DIR --from I --to J --mode warm|cold|cold-query ...

`prepare` builds (untimed, several threads) and caches every index under DIR; `run` loads them
and prints one JSON object {python, versions, results: [...]} whose rows have the harness's shape.
Modes: warm (50-query warm-up, query set repeated to --min-queries, best of --runs); cold (the
index file dropped from the page cache with posix_fadvise(DONTNEED) before each timed pass, one
pass, no warm-up); cold-query (dropped before every query, the drop not timed).
"""
import argparse
import json
import os
import platform
import sys
import time

import numpy as np


def read_vectors(path):
    raw = np.fromfile(path, dtype=np.int32)
    dim = int(raw[0])
    if path.endswith(".bvecs"):
        b = np.fromfile(path, dtype=np.uint8).reshape(-1, 4 + dim)
        return np.ascontiguousarray(b[:, 4:].astype(np.float32))
    rows = raw.reshape(-1, dim + 1)
    return np.ascontiguousarray(rows[:, 1:].view(np.float32))


def read_ivecs(path):
    raw = np.fromfile(path, dtype=np.int32)
    dim = int(raw[0])
    return raw.reshape(-1, dim + 1)[:, 1:]


def write_ivecs(path, a):
    n, d = a.shape
    out = np.empty((n, d + 1), dtype=np.int32)
    out[:, 0] = d
    out[:, 1:] = a
    out.tofile(path)


def recall_at(found, truth, k):
    kk = min(10, k)
    total = 0.0
    for f, t in zip(found, truth):
        ts = set(int(x) for x in t[:kk])
        total += len(ts.intersection(int(x) for x in f[:kk])) / len(ts)
    return total / len(found)


def drop_cache(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def query_loop(search, queries, k, truth, args, drop=None):
    """Mirror of the harness's loops: see the module docstring for the modes."""
    count = len(queries)
    found = []
    if args.mode == "warm":
        for q in queries[: min(count, 50)]:
            search(q)
        total = max(1, -(-args.min_queries // count)) * count
        best = None
        for run in range(max(1, args.runs)):
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
        qps, lat = best
    else:
        best = None
        for run in range(max(1, args.runs)):
            lat = np.empty(count)
            if drop is not None:
                drop()
            for t in range(count):
                if args.mode == "cold-query" and drop is not None:
                    drop()
                s = time.perf_counter()
                ids = search(queries[t])
                lat[t] = (time.perf_counter() - s) * 1000.0
                if run == 0:
                    found.append(ids)
            qps = count / (lat.sum() / 1000.0)
            if best is None or qps > best[0]:
                best = (qps, lat)
        qps, lat = best
    return {
        "recallAt10": recall_at(found, truth, k),
        "qps": qps,
        "p50Ms": float(np.quantile(lat, 0.5)),
        "p99Ms": float(np.quantile(lat, 0.99)),
        "queries": count,
    }


def faiss_path(cache, nlist):
    return os.path.join(cache, f"faiss-ivfflat-{nlist}.index")


def diskann_dir(cache, args):
    return os.path.join(cache, f"diskann-R{args.diskann_r}-L{args.diskann_l}-m{args.memory_fraction}")


def cmd_gt(args):
    import faiss

    faiss.omp_set_num_threads(args.threads)
    base = read_vectors(args.base)
    queries = read_vectors(args.query)
    index = faiss.IndexFlatL2(base.shape[1])
    index.add(base)
    _, ids = index.search(queries, args.k)
    write_ivecs(args.out, ids.astype(np.int32))
    print(json.dumps({"gt": args.out, "queries": len(queries), "k": args.k}))


def cmd_prepare(args):
    import faiss

    faiss.omp_set_num_threads(args.threads)
    os.makedirs(args.cache, exist_ok=True)
    base = read_vectors(args.base)
    n, dim = base.shape
    built = {}
    for nlist in args.nlists:
        path = faiss_path(args.cache, nlist)
        if os.path.exists(path):
            continue
        t0 = time.perf_counter()
        quantizer = faiss.IndexFlatL2(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist)
        index.cp.seed = args.seed
        if args.train_points_per_centroid > 0:
            # Training sample per centroid (faiss default 256): a smaller one only bounds k-means time.
            index.cp.max_points_per_centroid = args.train_points_per_centroid
        index.train(base)
        index.add(base)
        faiss.write_index(index, path)
        built[f"faiss-{nlist}"] = time.perf_counter() - t0
        with open(path + ".json", "w") as f:
            json.dump({"buildSeconds": built[f"faiss-{nlist}"], "threads": args.threads, "maxPointsPerCentroid": index.cp.max_points_per_centroid}, f)
        print(f"spann_peers: faiss IVF-Flat nlist={nlist} built in {built[f'faiss-{nlist}']:.1f} s", file=sys.stderr)
    if "diskann" in args.only:
        import diskannpy

        d = diskann_dir(args.cache, args)
        if not os.path.exists(os.path.join(d, "done.json")):
            os.makedirs(d, exist_ok=True)
            raw_gb = n * dim * 4 / 2**30
            t0 = time.perf_counter()
            diskannpy.build_disk_index(
                data=base,
                distance_metric="l2",
                index_directory=d,
                complexity=args.diskann_l,
                graph_degree=args.diskann_r,
                search_memory_maximum=raw_gb * args.memory_fraction,
                build_memory_maximum=max(1.0, raw_gb * 4),
                num_threads=args.threads,
                vector_dtype=np.float32,
            )
            secs = time.perf_counter() - t0
            with open(os.path.join(d, "done.json"), "w") as f:
                json.dump({"buildSeconds": secs, "threads": args.threads, "R": args.diskann_r, "L": args.diskann_l, "searchMemoryFraction": args.memory_fraction}, f)
            print(f"spann_peers: DiskANN R={args.diskann_r} L={args.diskann_l} built in {secs:.1f} s", file=sys.stderr)
    print(json.dumps({"prepared": args.cache, "built": built}))


def diskann_memory(d):
    """Resident part of a StaticDiskIndex with no node cache: the PQ codes and pivots (plus the
    medoid data, negligible); the graph and full vectors stay in ann_disk.index."""
    total = 0
    for name in os.listdir(d):
        if name.startswith("ann_pq_"):
            total += os.path.getsize(os.path.join(d, name))
    return total


def cmd_run(args):
    import faiss

    faiss.omp_set_num_threads(1)
    queries_all = read_vectors(args.query)
    gt_all = read_ivecs(args.gt)
    queries = np.ascontiguousarray(queries_all[args.from_ : args.to])
    truth = gt_all[args.from_ : args.to]
    dim = queries.shape[1]
    k = args.k
    results = []
    versions = {"numpy": np.__version__, "faiss": faiss.__version__}
    if "faiss" in args.only and args.mode == "warm":
        for nlist in args.nlists:
            path = faiss_path(args.cache, nlist)
            index = faiss.read_index(path)
            meta = json.load(open(path + ".json"))
            ntotal = index.ntotal
            memory = ntotal * dim * 4 + ntotal * 8 + nlist * dim * 4
            for nprobe in args.nprobes:
                if nprobe > nlist:
                    continue
                index.nprobe = nprobe

                def search(q, index=index):
                    _, i = index.search(q.reshape(1, -1), k)
                    return i[0]

                row = query_loop(search, queries, k, truth, args)
                results.append({"index": "faiss-ivfflat", "params": {"nlist": nlist, "nprobe": nprobe}, **row, "memoryBytes": int(memory), "buildSeconds": meta["buildSeconds"], "mode": args.mode})
                print(f"spann_peers: faiss nlist={nlist} nprobe={nprobe} recall={row['recallAt10']:.4f} qps={row['qps']:.0f}", file=sys.stderr)
            del index
    if "diskann" in args.only:
        import diskannpy

        versions["diskannpy"] = getattr(diskannpy, "__version__", "0.7.0")
        d = diskann_dir(args.cache, args)
        meta = json.load(open(os.path.join(d, "done.json")))
        # num_threads=2 (two scratch slots), queries still one at a time from this one thread: with
        # num_threads=1 DiskANN's search can wait forever for its only scratch slot
        # (microsoft/DiskANN#462, seen here: futex loop, no progress).
        index = diskannpy.StaticDiskIndex(index_directory=d, num_threads=2, num_nodes_to_cache=0, distance_metric="l2", vector_dtype=np.float32, dimensions=dim)
        disk_file = os.path.join(d, "ann_disk.index")
        memory = diskann_memory(d)
        for beam in args.beams:
            for L in args.diskann_ls:
                if L < k:
                    continue

                def search(q, L=L, beam=beam):
                    return index.search(q, k_neighbors=k, complexity=L, beam_width=beam).identifiers

                row = query_loop(search, queries, k, truth, args, drop=lambda: drop_cache(disk_file))
                results.append(
                    {
                        "index": "diskann",
                        "params": {"R": meta["R"], "buildL": meta["L"], "L": L, "beamWidth": beam, "searchMemoryFraction": meta["searchMemoryFraction"], "nodesCached": 0},
                        **row,
                        "memoryBytes": int(memory),
                        "buildSeconds": meta["buildSeconds"],
                        "mode": args.mode,
                    }
                )
                print(f"spann_peers: diskann {args.mode} W={beam} L={L} recall={row['recallAt10']:.4f} qps={row['qps']:.0f}", file=sys.stderr)
    print(json.dumps({"python": platform.python_version(), "versions": versions, "results": results}))


def ints(s):
    return [int(x) for x in s.split(",") if x]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["gt", "prepare", "run"])
    ap.add_argument("--base", required=True)
    ap.add_argument("--query")
    ap.add_argument("--gt")
    ap.add_argument("--out")
    ap.add_argument("--cache")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--only", type=lambda s: s.split(","), default=["faiss", "diskann"])
    ap.add_argument("--nlists", type=ints, default=[])
    ap.add_argument("--nprobes", type=ints, default=[1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64])
    ap.add_argument("--train-points-per-centroid", type=int, default=0)
    ap.add_argument("--diskann-r", type=int, default=64)
    ap.add_argument("--diskann-l", type=int, default=100)
    ap.add_argument("--diskann-ls", type=ints, default=[10, 15, 20, 30, 40, 60, 80])
    ap.add_argument("--beams", type=ints, default=[2, 4])
    ap.add_argument("--memory-fraction", type=float, default=0.25)
    ap.add_argument("--mode", choices=["warm", "cold", "cold-query"], default="warm")
    ap.add_argument("--from", dest="from_", type=int, default=0)
    ap.add_argument("--to", type=int, default=None)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--min-queries", type=int, default=1000)
    args = ap.parse_args()
    {"gt": cmd_gt, "prepare": cmd_prepare, "run": cmd_run}[args.command](args)


if __name__ == "__main__":
    main()
