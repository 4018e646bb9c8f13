import { Index, MetricKind, ScalarKind } from 'usearch';
import { throwIfAborted } from '../../../engine/sdk/node-error.js';
import { OnnxGraph } from '../onnx/graph.js';
import { createSession, ort, type Device, type ProviderChoice } from '../onnx/session.js';

/**
 * k-nearest-neighbour search by inner product (= cosine on unit vectors).
 *
 * Exact: blocked matrix products with ONNX Runtime (MatMul + TopK, MLAS GEMM on the CPU, or a GPU
 * provider) — per query batch, per base block, merged in JavaScript. Approximate: HNSW via usearch.
 * Both return row indices into the base matrix and float32 scores.
 */

export interface TopK {
  nq: number;
  k: number;
  /** nq × k, best first; missing results have index -1 and score -Infinity. */
  indices: Int32Array;
  scores: Float32Array;
}

export interface ExactOptions {
  provider: ProviderChoice;
  threads?: number;
  log?: (message: string, level?: 'info' | 'warn') => void;
  /** Queries per ONNX call (bounds the nq × block score matrix). */
  queryBatch?: number;
  /** Base rows per block. */
  baseBlock?: number;
  signal?: AbortSignal;
  progress?(done: number, total: number): void;
}

let searchModel: Uint8Array | undefined;
/** Graph: q [nq, d], x [n, d], k [1] → values, indices of the k largest q·xᵀ per row. */
function exactModel(): Uint8Array {
  if (searchModel) return searchModel;
  const g = new OnnxGraph('knn_exact');
  const q = g.input('q', 'float32', ['nq', 'dim']);
  const x = g.input('x', 'float32', ['n', 'dim']);
  const k = g.input('k', 'int64', [1]);
  const s = g.op('MatMul', [q, g.op('Transpose', [x], { perm: [1, 0] })]);
  g.opN('TopK', [s, k], ['values', 'indices'], { axis: 1, largest: 1, sorted: 1 });
  g.output('values', 'float32', ['nq', 'k']);
  g.output('indices', 'int64', ['nq', 'k']);
  searchModel = g.encode({ docString: 'exact inner-product top-k' });
  return searchModel;
}

export class ExactSearcher {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly device: Device,
  ) {}

  static async open(opts: Pick<ExactOptions, 'provider' | 'threads' | 'log'>): Promise<ExactSearcher> {
    const { session, device } = await createSession(exactModel(), { provider: opts.provider, threads: opts.threads, log: opts.log });
    return new ExactSearcher(session, device);
  }

  async search(base: Float32Array, nb: number, queries: Float32Array, nq: number, dim: number, k: number, opts: Omit<ExactOptions, 'provider' | 'threads' | 'log'> = {}): Promise<TopK> {
    const kk = Math.min(k, nb);
    const out: TopK = { nq, k, indices: new Int32Array(nq * k).fill(-1), scores: new Float32Array(nq * k).fill(-Infinity) };
    if (kk === 0 || nq === 0) return out;
    const qb = opts.queryBatch ?? 256;
    const bb = opts.baseBlock ?? 1 << 18;
    const blocks: { start: number; rows: number; tensor: ort.Tensor }[] = [];
    for (let s = 0; s < nb; s += bb) {
      const rows = Math.min(bb, nb - s);
      blocks.push({ start: s, rows, tensor: new ort.Tensor('float32', base.subarray(s * dim, (s + rows) * dim), [rows, dim]) });
    }
    const cand = new Float32Array(blocks.length * kk);
    const candIdx = new Int32Array(blocks.length * kk);
    const order = new Int32Array(blocks.length * kk);
    for (let q0 = 0; q0 < nq; q0 += qb) {
      if (opts.signal) throwIfAborted(opts.signal);
      const n = Math.min(qb, nq - q0);
      const qt = new ort.Tensor('float32', queries.subarray(q0 * dim, (q0 + n) * dim), [n, dim]);
      const results: { values: Float32Array; indices: BigInt64Array; kb: number; start: number }[] = [];
      for (const b of blocks) {
        const kb = Math.min(kk, b.rows);
        const r = await this.session.run({ q: qt, x: b.tensor, k: new ort.Tensor('int64', BigInt64Array.of(BigInt(kb)), [1]) });
        results.push({ values: r.values!.data as Float32Array, indices: r.indices!.data as BigInt64Array, kb, start: b.start });
      }
      for (let i = 0; i < n; i++) {
        const dst = (q0 + i) * k;
        if (results.length === 1) {
          const r = results[0]!;
          for (let j = 0; j < r.kb; j++) {
            out.scores[dst + j] = r.values[i * r.kb + j]!;
            out.indices[dst + j] = Number(r.indices[i * r.kb + j]!);
          }
          continue;
        }
        let c = 0;
        for (const r of results) {
          for (let j = 0; j < r.kb; j++) {
            cand[c] = r.values[i * r.kb + j]!;
            candIdx[c] = r.start + Number(r.indices[i * r.kb + j]!);
            order[c] = c;
            c++;
          }
        }
        const sorted = Array.from(order.subarray(0, c)).sort((a, b) => cand[b]! - cand[a]! || candIdx[a]! - candIdx[b]!);
        for (let j = 0; j < kk; j++) {
          out.scores[dst + j] = cand[sorted[j]!]!;
          out.indices[dst + j] = candIdx[sorted[j]!]!;
        }
      }
      opts.progress?.(q0 + n, nq);
    }
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Replaces each found score by the dot product recomputed in float64 and rounded to float32, and
 * re-sorts: the written similarities then do not depend on the GEMM kernel of the machine.
 */
export function rescore(res: TopK, base: Float32Array, queries: Float32Array, dim: number): void {
  const { nq, k } = res;
  const tmp: { i: number; s: number }[] = [];
  for (let q = 0; q < nq; q++) {
    tmp.length = 0;
    for (let j = 0; j < k; j++) {
      const i = res.indices[q * k + j]!;
      if (i < 0) continue;
      let s = 0;
      const bo = i * dim;
      const qo = q * dim;
      for (let t = 0; t < dim; t++) s += base[bo + t]! * queries[qo + t]!;
      tmp.push({ i, s: Math.fround(s) });
    }
    tmp.sort((a, b) => b.s - a.s || a.i - b.i);
    for (let j = 0; j < k; j++) {
      res.indices[q * k + j] = j < tmp.length ? tmp[j]!.i : -1;
      res.scores[q * k + j] = j < tmp.length ? tmp[j]!.s : -Infinity;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// HNSW (usearch)

export interface HnswParams {
  /** M: links per node. */
  connectivity: number;
  /** efConstruction. */
  expansionAdd: number;
  /** efSearch. */
  expansionSearch: number;
}

export const DEFAULT_HNSW: HnswParams = { connectivity: 16, expansionAdd: 128, expansionSearch: 64 };

function newIndex(dim: number, p: HnswParams): Index {
  return new Index({
    dimensions: dim,
    metric: MetricKind.IP,
    quantization: ScalarKind.F32,
    connectivity: p.connectivity,
    expansion_add: p.expansionAdd,
    expansion_search: p.expansionSearch,
    multi: false,
  });
}

export function buildHnsw(data: Float32Array, n: number, dim: number, p: HnswParams, threads = 0): Index {
  const index = newIndex(dim, p);
  if (n === 0) return index;
  const keys = new BigUint64Array(n);
  for (let i = 0; i < n; i++) keys[i] = BigInt(i);
  index.add(keys, data.subarray(0, n * dim), threads);
  return index;
}

/** Loads a saved index with the given search-time parameters. */
export function loadHnsw(path: string, dim: number, p: HnswParams): Index {
  const index = newIndex(dim, p);
  index.load(path);
  return index;
}

export function hnswSearch(index: Index, queries: Float32Array, nq: number, dim: number, k: number, threads = 0, batch = 4096, progress?: (done: number, total: number) => void): TopK {
  const out: TopK = { nq, k, indices: new Int32Array(nq * k).fill(-1), scores: new Float32Array(nq * k).fill(-Infinity) };
  if (index.size() === 0 || nq === 0) return out;
  const kk = Math.min(k, index.size());
  for (let q0 = 0; q0 < nq; q0 += batch) {
    const n = Math.min(batch, nq - q0);
    const r = index.search(queries.subarray(q0 * dim, (q0 + n) * dim), kk, threads);
    const keys = r.keys;
    const dist = r.distances;
    const counts: BigUint64Array = 'counts' in r ? (r.counts as BigUint64Array) : BigUint64Array.of(BigInt(keys.length));
    for (let i = 0; i < n; i++) {
      const c = Number(counts[i]!);
      for (let j = 0; j < c && j < kk; j++) {
        out.indices[(q0 + i) * k + j] = Number(keys[i * kk + j]!);
        // usearch's inner-product distance is 1 − q·x.
        out.scores[(q0 + i) * k + j] = 1 - dist[i * kk + j]!;
      }
    }
    progress?.(q0 + n, nq);
  }
  return out;
}

/** Mean fraction of the exact top-k found by the approximate top-k, over the given queries. */
export function recallAtK(approx: TopK, exact: TopK, rows: readonly number[], exactRows: readonly number[] = rows.map((_, i) => i)): number {
  const k = approx.k;
  let hit = 0;
  let total = 0;
  rows.forEach((q, i) => {
    const eq = exactRows[i]!;
    const truth = new Set<number>();
    for (let j = 0; j < exact.k; j++) {
      const v = exact.indices[eq * exact.k + j]!;
      if (v >= 0) truth.add(v);
    }
    for (let j = 0; j < k; j++) if (truth.has(approx.indices[q * k + j]!)) hit++;
    total += truth.size;
  });
  return total === 0 ? 1 : hit / total;
}
