"""FAISS baseline for bench/ml-retriever.bench.ts (run with Debian's /usr/bin/python3, python3-faiss).

  python3 ml_knn_faiss.py gen   DIR N NQ DIM SEED   -> DIR/base.f32, DIR/queries.f32 (row-major float32)
  python3 ml_knn_faiss.py flat  DIR DIM K REPS      -> JSON: exact IndexFlatIP search times, top-k ids file
  python3 ml_knn_faiss.py hnsw  DIR DIM K REPS M EFC EF1,EF2,...  -> JSON: build time, per-ef search times

Vectors: unit-normalised points of a clustered, low-intrinsic-dimension distribution (a stand-in
for sentence embeddings, which are anisotropic and topical): 1000 cluster centres in a 24-d latent
space, points = centre + spread, mapped to DIM dims by a fixed random matrix, plus small isotropic
noise. Queries come from the same distribution, not from the base set.
"""
import json
import sys
import time

import numpy as np


def gen(d, n, nq, dim, seed):
    rng = np.random.default_rng(seed)
    latent, clusters = 24, 1000
    proj = rng.standard_normal((latent, dim)).astype(np.float32)
    centres = rng.standard_normal((clusters, latent)).astype(np.float32)

    def sample(m):
        k = rng.integers(0, clusters, m)
        z = centres[k] + 0.6 * rng.standard_normal((m, latent)).astype(np.float32)
        x = z @ proj + 0.5 * rng.standard_normal((m, dim)).astype(np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        return x.astype(np.float32)

    sample(n).tofile(f"{d}/base.f32")
    sample(nq).tofile(f"{d}/queries.f32")


def load(d, dim):
    import faiss  # noqa: F401  (fail early if missing)
    base = np.fromfile(f"{d}/base.f32", dtype=np.float32).reshape(-1, dim)
    q = np.fromfile(f"{d}/queries.f32", dtype=np.float32).reshape(-1, dim)
    return base, q


def flat(d, dim, k, reps):
    import faiss
    base, q = load(d, dim)
    index = faiss.IndexFlatIP(dim)
    index.add(base)
    index.search(q[:16], k)  # warm-up
    times = []
    ids = None
    for _ in range(reps):
        t = time.perf_counter()
        _, ids = index.search(q, k)
        times.append(time.perf_counter() - t)
    ids.astype(np.int32).tofile(f"{d}/faiss-flat-ids.i32")
    return {"times": times, "threads": faiss.omp_get_max_threads(), "version": faiss.__version__}


def hnsw(d, dim, k, reps, m, efc, efs):
    import faiss
    base, q = load(d, dim)
    truth = np.fromfile(f"{d}/faiss-flat-ids.i32", dtype=np.int32).reshape(len(q), k)
    index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = efc
    t = time.perf_counter()
    index.add(base)
    build = time.perf_counter() - t
    out = []
    for ef in efs:
        index.hnsw.efSearch = ef
        index.search(q[:16], k)
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            _, ids = index.search(q, k)
            times.append(time.perf_counter() - t)
        hits = sum(len(set(ids[i]) & set(truth[i])) for i in range(len(q)))
        out.append({"ef": ef, "times": times, "recall": hits / (len(q) * k)})
    return {"build": build, "results": out, "threads": faiss.omp_get_max_threads()}


if __name__ == "__main__":
    cmd, d = sys.argv[1], sys.argv[2]
    if cmd == "gen":
        gen(d, int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
        print("{}")
    elif cmd == "flat":
        print(json.dumps(flat(d, int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))))
    elif cmd == "hnsw":
        efs = [int(x) for x in sys.argv[8].split(",")]
        print(json.dumps(hnsw(d, int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), efs)))
    else:
        raise SystemExit(f"unknown command {cmd}")
