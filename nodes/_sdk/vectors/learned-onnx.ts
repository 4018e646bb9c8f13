import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeError, throwIfAborted } from '../../../engine/sdk/node-error.js';
import type { ArtifactRef } from '../../../engine/sdk/types.js';
import { onnxInitializers } from '../fasttext/onnx.js';
import { MODEL_MANIFEST, MODEL_ONNX } from '../models/model-artifact.js';
import { OnnxGraph } from '../onnx/graph.js';
import { ort, type Device } from '../onnx/session.js';
import { openSession, type EncodeHooks, type Encoded, type SessionChoice, type TextEncoderModel } from './encoders.js';
import { Featurizer, learnedDim, type Features, type LearnedModel, type LearnedOptions } from './learned.js';

/**
 * The learned embedder as one ONNX graph (an EmbeddingBag twice): inputs `ids` int64 [batch, length]
 * (distinct vocabulary rows of each text, right-padded with `padId`, a zero row) and `counts` float
 * [batch, length] (each row's count, 0 on padding); output `embedding` float [batch, dim]:
 *   lexical  = normalise(Σ (1 + ln count) · lexical_table[id])
 *   semantic = normalise(s − (s·pc) pc),  s = Σ count · semantic_table[id]
 *   embedding = [√(1−mix) · lexical, √mix · semantic]
 * Tokenising and the vocabulary lookup stay in TypeScript (ONNX has no string hashing); the
 * vocabulary travels in the manifest.
 */

export const LEXICAL_TABLE = 'lexical_table';
export const SEMANTIC_TABLE = 'semantic_table';
export const PRINCIPAL_COMPONENT = 'principal_component';
export const LEARNED_FORMAT = 'forge.learned-embedder';

export interface LearnedManifest {
  format: typeof LEARNED_FORMAT;
  formatVersion: 1;
  onnx: string;
  /** Token rule: lowercase runs of letters, digits and `_` (the same as BM25 / TF-IDF). */
  tokenizer: 'lexical';
  padId: number;
  vocab: string[];
  oovBuckets: number;
  lexicalDim: number;
  semanticDim: number;
  mix: number;
  options: LearnedOptions;
  [extra: string]: unknown;
}

/** Row-sum of `table[ids]` weighted by `weights` ([batch, length]) → [batch, cols]. */
function weightedBag(g: OnnxGraph, table: string, ids: string, weights: string): string {
  const gathered = g.op('Gather', [table, ids], { axis: 0 });
  const w = g.op('Unsqueeze', [weights, g.ints([1])]);
  return g.op('Squeeze', [g.op('MatMul', [w, gathered]), g.ints([1])]);
}

function unit(g: OnnxGraph, x: string): string {
  return g.op('Div', [x, g.op('Max', [g.op('ReduceL2', [x], { axes: [1], keepdims: 1 }), g.floats([1e-12], [])])]);
}

function withPadRow(data: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array((rows + 1) * cols);
  t.set(data.subarray(0, rows * cols));
  return t;
}

export function learnedToOnnx(m: LearnedModel): { bytes: Uint8Array; padId: number } {
  const rows = m.vocab.length + m.oovBuckets;
  const g = new OnnxGraph('learned_embedder');
  const ids = g.input('ids', 'int64', ['batch', 'length']);
  const counts = g.input('counts', 'float32', ['batch', 'length']);
  const present = g.op('Cast', [g.op('Greater', [counts, g.floats([0], [])])], { to: 1 });
  const tfw = g.op('Mul', [g.op('Add', [g.op('Log', [g.op('Max', [counts, g.floats([1], [])])]), g.floats([1], [])]), present]);
  const lexTable = g.init(LEXICAL_TABLE, withPadRow(m.lexical, rows, m.lexicalDim), [rows + 1, m.lexicalDim]);
  const lexical = g.op('Mul', [unit(g, weightedBag(g, lexTable, ids, tfw)), g.floats([Math.sqrt(1 - m.mix)], [])]);
  if (m.semanticDim > 0) {
    const semTable = g.init(SEMANTIC_TABLE, withPadRow(m.semantic, rows, m.semanticDim), [rows + 1, m.semanticDim]);
    const s = weightedBag(g, semTable, ids, counts);
    const pc = g.init(PRINCIPAL_COMPONENT, m.pc, [m.semanticDim, 1]);
    const proj = g.op('MatMul', [s, pc]);
    const centred = g.op('Sub', [s, g.op('MatMul', [proj, g.op('Transpose', [pc], { perm: [1, 0] })])]);
    const semantic = g.op('Mul', [unit(g, centred), g.floats([Math.sqrt(m.mix)], [])]);
    g.op('Concat', [lexical, semantic], { axis: 1 }, 'embedding');
  } else {
    g.op('Identity', [lexical], {}, 'embedding');
  }
  g.output('embedding', 'float32', ['batch', learnedDim(m)]);
  const bytes = g.encode({ docString: 'Forge learned embedder (random-indexed TF-IDF + SIF skipgram)', metadata: { 'forge.kind': 'learned-embedder', 'forge.padId': String(rows) } });
  return { bytes, padId: rows };
}

export function learnedManifest(m: LearnedModel, padId: number, options: LearnedOptions, extra: Record<string, unknown> = {}): LearnedManifest {
  return {
    format: LEARNED_FORMAT,
    formatVersion: 1,
    onnx: 'model.onnx',
    tokenizer: 'lexical',
    padId,
    vocab: m.vocab,
    oovBuckets: m.oovBuckets,
    lexicalDim: m.lexicalDim,
    semanticDim: m.semanticDim,
    mix: m.mix,
    options,
    ...extra,
  };
}

/** Rebuilds the model (tables from the ONNX file) for the TypeScript reference computation. */
export function learnedFromOnnx(bytes: Uint8Array, mf: LearnedManifest): LearnedModel {
  const inits = onnxInitializers(bytes, [LEXICAL_TABLE, SEMANTIC_TABLE, PRINCIPAL_COMPONENT]);
  const rows = mf.vocab.length + mf.oovBuckets;
  const lex = inits.get(LEXICAL_TABLE);
  if (!lex || lex.dims[0] !== rows + 1 || lex.dims[1] !== mf.lexicalDim) throw new Error(`model.onnx lacks a ${LEXICAL_TABLE} of ${rows + 1} × ${mf.lexicalDim} (the manifest's vocabulary)`);
  const sem = inits.get(SEMANTIC_TABLE);
  const pc = inits.get(PRINCIPAL_COMPONENT);
  return {
    vocab: mf.vocab,
    oovBuckets: mf.oovBuckets,
    lexicalDim: mf.lexicalDim,
    semanticDim: mf.semanticDim,
    mix: mf.mix,
    lexical: lex.data.subarray(0, rows * mf.lexicalDim),
    semantic: sem ? sem.data.subarray(0, rows * mf.semanticDim) : new Float32Array(0),
    pc: pc ? pc.data : new Float32Array(0),
  };
}

/** Pads feature lists into the graph's two input tensors. */
export function learnedFeeds(rows: readonly Features[], padId: number): Record<string, ort.Tensor> {
  const length = Math.max(1, ...rows.map((r) => r.ids.length));
  const ids = new BigInt64Array(rows.length * length).fill(BigInt(padId));
  const counts = new Float32Array(rows.length * length);
  rows.forEach((r, i) => {
    for (let j = 0; j < r.ids.length; j++) {
      ids[i * length + j] = BigInt(r.ids[j]!);
      counts[i * length + j] = r.counts[j]!;
    }
  });
  return { ids: new ort.Tensor('int64', ids, [rows.length, length]), counts: new ort.Tensor('float32', counts, [rows.length, length]) };
}

/** Runs the graph over texts in length-sorted batches; returns count × dim in row order. */
export async function runLearned(
  session: ort.InferenceSession,
  mf: Pick<LearnedManifest, 'vocab' | 'oovBuckets' | 'padId' | 'lexicalDim' | 'semanticDim'>,
  texts: readonly string[],
  batchSize: number,
  hooks: { progress?(done: number, total: number): void; signal?: AbortSignal } = {},
): Promise<Float32Array> {
  const feat = new Featurizer(mf.vocab, mf.oovBuckets);
  const feats = texts.map((t) => feat.features(t));
  const dim = learnedDim(mf);
  const n = texts.length;
  const data = new Float32Array(n * dim);
  const order = feats.map((_, i) => i).sort((a, b) => feats[a]!.ids.length - feats[b]!.ids.length || a - b);
  for (let start = 0; start < n; start += batchSize) {
    if (hooks.signal) throwIfAborted(hooks.signal);
    const rows = order.slice(start, start + batchSize);
    const out = await session.run(
      learnedFeeds(
        rows.map((r) => feats[r]!),
        mf.padId,
      ),
      ['embedding'],
    );
    const y = out.embedding!.data as Float32Array;
    rows.forEach((row, b) => data.set(y.subarray(b * dim, (b + 1) * dim), row * dim));
    hooks.progress?.(Math.min(n, start + batchSize), n);
  }
  return data;
}

/** The embedder node's view of a learned embedder artifact (model.onnx + model.json). */
export class LearnedEncoder implements TextEncoderModel {
  readonly pooling = 'sif';
  private constructor(
    readonly model: string,
    readonly modelHash: string,
    readonly dim: number,
    readonly device: Device,
    private readonly session: ort.InferenceSession,
    private readonly manifest: LearnedManifest,
    private readonly batchSize: number,
  ) {}

  static async open(ref: ArtifactRef, choice: SessionChoice & { batchSize: number }, port = 'model'): Promise<LearnedEncoder> {
    const mfPath = join(ref.dir, MODEL_MANIFEST);
    const onnxPath = join(ref.dir, MODEL_ONNX);
    if (!existsSync(mfPath) || !existsSync(onnxPath)) throw new NodeError(`input "${port}" is not a learned embedder (needs ${MODEL_MANIFEST} and ${MODEL_ONNX})`, { field: `inputs.${port}` });
    const mf = JSON.parse(readFileSync(mfPath, 'utf8')) as LearnedManifest;
    if (mf.format !== LEARNED_FORMAT || mf.formatVersion !== 1)
      throw new NodeError(`input "${port}" holds a ${String(mf.format)} v${String(mf.formatVersion)} model, expected ${LEARNED_FORMAT} v1`, { file: mfPath, field: `inputs.${port}` });
    const { session, device } = await openSession(readFileSync(onnxPath), choice, onnxPath);
    const dim = learnedDim(mf);
    return new LearnedEncoder(`forge-learned(${mf.lexicalDim}+${mf.semanticDim},mix=${mf.mix}):${ref.hash.slice(7, 19)}`, ref.hash, dim, device, session, mf, choice.batchSize);
  }

  async encode(texts: readonly string[], hooks: EncodeHooks = {}): Promise<Encoded> {
    return { data: await runLearned(this.session, this.manifest, texts, this.batchSize, hooks), truncated: 0 };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
