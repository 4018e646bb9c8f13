/** fastText's dense and product-quantized matrices (the latter in `.ftz` models). */

export interface DenseMatrix {
  kind: 'dense';
  rows: number;
  cols: number;
  data: Float32Array;
}

/** fastText's ProductQuantizer: nsubq sub-spaces of dsub dims (the last one lastdsub), 256 centroids each. */
export interface ProductQuantizer {
  dim: number;
  nsubq: number;
  dsub: number;
  lastdsub: number;
  centroids: Float32Array;
}

export interface QuantMatrix {
  kind: 'quant';
  rows: number;
  cols: number;
  qnorm: boolean;
  codes: Uint8Array;
  pq: ProductQuantizer;
  normCodes: Uint8Array | null;
  npq: ProductQuantizer | null;
}

export type Matrix = DenseMatrix | QuantMatrix;

export const KSUB = 256;

export function dense(rows: number, cols: number, data: Float32Array = new Float32Array(rows * cols)): DenseMatrix {
  if (data.length !== rows * cols) throw new Error(`matrix ${rows}x${cols} needs ${rows * cols} values, got ${data.length}`);
  return { kind: 'dense', rows, cols, data };
}

/** Offset of centroid `i` of sub-quantizer `m` (`get_centroids`). */
function centroidOffset(pq: ProductQuantizer, m: number, i: number): number {
  if (m === pq.nsubq - 1) return m * KSUB * pq.dsub + i * pq.lastdsub;
  return (m * KSUB + i) * pq.dsub;
}

function rowNorm(q: QuantMatrix, i: number): number {
  if (!q.qnorm || !q.normCodes || !q.npq) return 1;
  return q.npq.centroids[centroidOffset(q.npq, 0, q.normCodes[i]!)]!;
}

/** x += a · row i, in float32 like `addRowToVector` (dense) / `addcode` (quantized). */
export function addRowTo(x: Float32Array, m: Matrix, i: number, a = 1): void {
  if (m.kind === 'dense') {
    const { cols, data } = m;
    const off = i * cols;
    if (a === 1) for (let j = 0; j < cols; j++) x[j] = x[j]! + data[off + j]!;
    else for (let j = 0; j < cols; j++) x[j] = x[j]! + Math.fround(a * data[off + j]!);
    return;
  }
  const { pq, codes } = m;
  const alpha = Math.fround(a * rowNorm(m, i));
  const code = pq.nsubq * i;
  let d = pq.dsub;
  for (let s = 0; s < pq.nsubq; s++) {
    const c = centroidOffset(pq, s, codes[code + s]!);
    if (s === pq.nsubq - 1) d = pq.lastdsub;
    for (let n = 0; n < d; n++) {
      const k = s * pq.dsub + n;
      x[k] = x[k]! + Math.fround(alpha * pq.centroids[c + n]!);
    }
  }
}

/** Dot product of row i with x, accumulated in float32 like `dotRow` / `mulcode`. */
export function dotRow(m: Matrix, x: Float32Array, i: number): number {
  let d = 0;
  if (m.kind === 'dense') {
    const { cols, data } = m;
    const off = i * cols;
    for (let j = 0; j < cols; j++) d = Math.fround(d + Math.fround(data[off + j]! * x[j]!));
    return d;
  }
  const { pq, codes } = m;
  const code = pq.nsubq * i;
  let dd = pq.dsub;
  for (let s = 0; s < pq.nsubq; s++) {
    const c = centroidOffset(pq, s, codes[code + s]!);
    if (s === pq.nsubq - 1) dd = pq.lastdsub;
    for (let n = 0; n < dd; n++) d = Math.fround(d + Math.fround(x[s * pq.dsub + n]! * pq.centroids[c + n]!));
  }
  return Math.fround(d * rowNorm(m, i));
}

/** A dense copy (quantized rows reconstructed with their norms), for export to ONNX. */
export function toDense(m: Matrix): DenseMatrix {
  if (m.kind === 'dense') return m;
  const out = new Float32Array(m.rows * m.cols);
  const row = new Float32Array(m.cols);
  for (let i = 0; i < m.rows; i++) {
    row.fill(0);
    addRowTo(row, m, i);
    out.set(row, i * m.cols);
  }
  return dense(m.rows, m.cols, out);
}
