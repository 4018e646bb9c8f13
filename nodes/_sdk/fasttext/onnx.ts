import { onnxSchema, OnnxGraph } from '../onnx/graph.js';
import { Dictionary, type Preprocess } from './dictionary.js';
import { dense, toDense, type DenseMatrix } from './matrix.js';
import { FastTextModel, HsTree, type FastTextArgs } from './model.js';

/**
 * fastText models as ONNX graphs, and back.
 *
 * Graph: input `ids` int64 [batch, length] — input-matrix rows of each text (from
 * `Dictionary.featurize`), right-padded with `padId` (= number of rows, a zero row). Outputs:
 * `hidden` float [batch, dim] — the mean of the rows (fastText's sentence vector) — and `probs`
 * float [batch, labels] — softmax, hierarchical-softmax leaf probabilities, or one-vs-all sigmoids.
 * String hashing has no ONNX operator, so featurisation stays in TypeScript; its spec (dictionary,
 * n-gram settings, preprocessing) travels in the model manifest.
 */

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

export const INPUT_MATRIX = 'input_matrix';
export const OUTPUT_MATRIX = 'output_matrix';

/** Appends the mean-of-rows embedding bag to `g`; returns the name of the [batch, dim] hidden tensor. */
export function embeddingBag(g: OnnxGraph, ids: string, input: DenseMatrix, initName = INPUT_MATRIX): { hidden: string; padId: number } {
  const padId = input.rows;
  const table = new Float32Array((input.rows + 1) * input.cols);
  table.set(input.data);
  const E = g.init(initName, table, [input.rows + 1, input.cols]);
  const gathered = g.op('Gather', [E, ids], { axis: 0 });
  const sum = g.op('ReduceSum', [gathered, g.ints([1])], { keepdims: 0 });
  const notPad = g.op('Not', [g.op('Equal', [ids, g.init(undefined, BigInt64Array.of(BigInt(padId)), [])])]);
  const count = g.op('ReduceSum', [g.op('Cast', [notPad], { to: 1 }), g.ints([1])], { keepdims: 1 });
  const hidden = g.op('Div', [sum, g.op('Max', [count, g.floats([1], [])])], {}, 'hidden');
  return { hidden, padId };
}

export function fastTextToOnnx(model: FastTextModel, docString = 'fastText-style classifier exported by Forge Studio'): { bytes: Uint8Array; padId: number } {
  const g = new OnnxGraph('fasttext');
  const ids = g.input('ids', 'int64', ['batch', 'length']);
  const { hidden, padId } = embeddingBag(g, ids, toDense(model.input));
  const out = toDense(model.output);
  const W = g.init(OUTPUT_MATRIX, out.data, [out.rows, out.cols]);
  const logits = g.op('Gemm', [hidden, W], { transB: 1 });
  const nl = model.nlabels;
  if (model.args.loss === 'softmax') {
    g.op('Softmax', [logits], { axis: -1 }, 'probs');
  } else if (model.args.loss === 'hs') {
    const tree = model.hs as HsTree;
    const depth = Math.max(1, ...tree.paths.map((p) => p.length));
    const P = new BigInt64Array(nl * depth);
    const A = new Float32Array(nl * depth).fill(1);
    const B = new Float32Array(nl * depth);
    tree.paths.forEach((path, l) => {
      path.forEach((node, j) => {
        const right = tree.codes[l]![j]!;
        P[l * depth + j] = BigInt(node);
        // p = f for a right (binary) branch, 1 - f for a left one; padding contributes a factor 1.
        A[l * depth + j] = right ? 0 : 1;
        B[l * depth + j] = right ? 1 : -1;
      });
    });
    const f = g.op('Sigmoid', [logits]);
    const gathered = g.op('Gather', [f, g.init(undefined, P, [nl, depth])], { axis: 1 });
    const terms = g.op('Add', [g.init(undefined, A, [nl, depth]), g.op('Mul', [gathered, g.init(undefined, B, [nl, depth])])]);
    g.op('ReduceProd', [terms], { axes: [2], keepdims: 0 }, 'probs');
  } else {
    g.op('Sigmoid', [logits], {}, 'probs');
  }
  g.output('probs', 'float32', ['batch', nl]);
  g.output(hidden, 'float32', ['batch', model.args.dim]);
  return { bytes: g.encode({ docString, metadata: { 'forge.kind': 'fasttext', 'forge.padId': String(padId), 'forge.labels': JSON.stringify(model.labels) } }), padId };
}

/** The JSON manifest stored next to `model.onnx` in a `model` artifact. */
export interface FastTextManifest {
  format: 'forge.fasttext';
  formatVersion: 1;
  onnx: string;
  padId: number;
  args: FastTextArgs;
  preprocess: Preprocess;
  labels: string[];
  /** For binary classifiers: the label whose probability is "the score". */
  positiveLabel?: string;
  dictionary: { entries: string[]; counts: number[]; types: number[]; ntokens: number; pruneIdx: [number, number][] | null };
  [extra: string]: unknown;
}

export function manifestOf(model: FastTextModel, padId: number, extra: Record<string, unknown> = {}): FastTextManifest {
  const d = model.dict;
  return {
    format: 'forge.fasttext',
    formatVersion: 1,
    onnx: 'model.onnx',
    padId,
    args: model.args,
    preprocess: model.preprocess,
    labels: model.labels,
    dictionary: { entries: d.entries, counts: d.counts, types: d.types, ntokens: d.ntokens, pruneIdx: d.pruneIdx ? [...d.pruneIdx.entries()] : null },
    ...extra,
  };
}

/** Raw float32 initializers of an ONNX file, by name. */
export function onnxInitializers(bytes: Uint8Array, names: readonly string[]): Map<string, { dims: number[]; data: Float32Array }> {
  const ModelProto = onnxSchema().lookupType('onnx.ModelProto');
  const m = ModelProto.decode(bytes) as unknown as {
    graph: { initializer: { name: string; dims: (number | { toNumber(): number })[]; dataType: number; rawData: Uint8Array; floatData: number[] }[] };
  };
  const out = new Map<string, { dims: number[]; data: Float32Array }>();
  for (const t of m.graph.initializer) {
    if (!names.includes(t.name)) continue;
    if (t.dataType !== 1) throw new Error(`initializer ${t.name} is not float32`);
    const dims = t.dims.map((d) => (typeof d === 'number' ? d : d.toNumber()));
    let data: Float32Array;
    if (t.rawData && t.rawData.length > 0) {
      data = new Float32Array(t.rawData.length / 4);
      new Uint8Array(data.buffer).set(t.rawData);
    } else data = Float32Array.from(t.floatData);
    out.set(t.name, { dims, data });
  }
  return out;
}

/** Rebuilds the TypeScript model from an exported ONNX file and its manifest (weights come from the ONNX file). */
export function fastTextFromOnnx(bytes: Uint8Array, manifest: FastTextManifest): FastTextModel {
  const inits = onnxInitializers(bytes, [INPUT_MATRIX, OUTPUT_MATRIX]);
  const inp = inits.get(INPUT_MATRIX);
  const out = inits.get(OUTPUT_MATRIX);
  if (!inp || !out) throw new Error(`model.onnx lacks the ${INPUT_MATRIX}/${OUTPUT_MATRIX} initializers of a Forge fastText export`);
  const [rowsPlusPad, dim] = inp.dims as [number, number];
  const input = dense(rowsPlusPad - 1, dim, inp.data.subarray(0, (rowsPlusPad - 1) * dim));
  const output = dense(out.dims[0]!, out.dims[1]!, out.data);
  const d = manifest.dictionary;
  const a = manifest.args;
  const dict = new Dictionary(
    { entries: d.entries, counts: d.counts, types: d.types, ntokens: d.ntokens, pruneIdx: d.pruneIdx ? new Map(d.pruneIdx) : null },
    { minn: a.minn, maxn: a.maxn, wordNgrams: a.wordNgrams, bucket: a.bucket, label: a.label },
  );
  if (dict.inputRows !== input.rows) throw new Error(`model.onnx input matrix has ${input.rows} rows, the manifest's dictionary needs ${dict.inputRows}`);
  return new FastTextModel(a, dict, input, output, manifest.preprocess);
}

/** Pads feature lists into an int64 [batch, length] tensor buffer. */
export function padIds(rows: readonly Int32Array[], padId: number): { data: BigInt64Array; length: number } {
  const length = Math.max(1, ...rows.map((r) => r.length));
  const data = new BigInt64Array(rows.length * length);
  if (LITTLE_ENDIAN && padId >= 0) {
    // Row ids and padId are non-negative int32s: writing the low 32-bit halves of the zeroed int64s
    // avoids a BigInt per element (millions per batch of web pages).
    const words = new Int32Array(data.buffer, data.byteOffset, data.length * 2);
    rows.forEach((r, i) => {
      let o = i * length * 2;
      for (let j = 0; j < length; j++, o += 2) words[o] = j < r.length ? r[j]! : padId;
    });
    return { data, length };
  }
  data.fill(BigInt(padId));
  rows.forEach((r, i) => {
    for (let j = 0; j < r.length; j++) data[i * length + j] = BigInt(r[j]!);
  });
  return { data, length };
}
