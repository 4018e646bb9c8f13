import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeError, throwIfAborted } from '../../../engine/sdk/node-error.js';
import { sha256, sha256Hex } from '../../../engine/sdk/hash.js';
import { Dictionary, tokenize, type Preprocess } from '../fasttext/dictionary.js';
import { dense } from '../fasttext/matrix.js';
import { embeddingBag, fastTextFromOnnx, padIds, type FastTextManifest } from '../fasttext/onnx.js';
import { OnnxGraph } from '../onnx/graph.js';
import { createSession, ort, ProviderUnavailableError, type Device, type ProviderChoice } from '../onnx/session.js';
import { Rng } from '../rng.js';
import { TextTokenizer } from '../text/tokenizer.js';

/**
 * Text encoders for the embedder node. Both run an ONNX graph through the same provider path:
 * - TransformerEncoder: a local sentence-transformer folder (model.onnx + tokenizer.json), length-
 *   bucketed batches, mean (or CLS) pooling with the attention mask.
 * - BagEncoder: fastText-style embedding bag (mean of word / word n-gram / char n-gram rows),
 *   either the built-in hashed n-gram model (random weights, no download) or the input matrix of a
 *   classifier trained by Forge.
 */

export interface EncodeHooks {
  progress?(done: number, total: number): void;
  signal?: AbortSignal;
}

export interface Encoded {
  /** count × dim, pooled, not yet normalised. */
  data: Float32Array;
  truncated: number;
}

export interface TextEncoderModel {
  readonly model: string;
  readonly modelHash: string;
  readonly dim: number;
  readonly device: Device;
  readonly pooling: string;
  encode(texts: readonly string[], hooks?: EncodeHooks): Promise<Encoded>;
  close(): Promise<void>;
}

export interface SessionChoice {
  provider: ProviderChoice;
  threads?: number;
  log?: (message: string, level?: 'info' | 'warn') => void;
}

export async function openSession(model: string | Uint8Array, choice: SessionChoice, file?: string) {
  try {
    return await createSession(model, { provider: choice.provider, threads: choice.threads, log: choice.log });
  } catch (err) {
    if (err instanceof ProviderUnavailableError) throw err;
    throw new NodeError(`ONNX Runtime cannot load the model: ${(err as Error).message.split('\n')[0]}`, { file, field: 'params.model' });
  }
}

/** Padding a batch may carry before it is cut, and the rows it always gets first (see planBatches). */
const PAD_SHARE = 0.1;
const MIN_DOCS = 8;

/** Row order sorted by length (stable), so that each batch pads to similar lengths. */
function lengthOrder(lengths: ArrayLike<number>): number[] {
  return Array.from({ length: lengths.length }, (_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
}

/** Length-bucketed batches of row indexes (see TransformerEncoder.planBatches for the rules). */
export function planLengthBatches(lengths: ArrayLike<number>, batchSize: number, maxLength: number): number[][] {
  const order = lengthOrder(lengths);
  const budget = batchSize * maxLength;
  const maxDocs = batchSize * 8;
  const batches: number[][] = [];
  let cur: number[] = [];
  let real = 0;
  for (const i of order) {
    const len = Math.max(1, lengths[i]!);
    const padded = (cur.length + 1) * len;
    const tooPadded = cur.length >= MIN_DOCS && padded - (real + len) > PAD_SHARE * padded;
    if (cur.length > 0 && (padded > budget || cur.length >= maxDocs || tooPadded)) {
      batches.push(cur);
      cur = [];
      real = 0;
    }
    cur.push(i);
    real += len;
  }
  if (cur.length > 0) batches.push(cur);
  return batches;
}

export function l2normalize(data: Float32Array, dim: number): void {
  for (let o = 0; o < data.length; o += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += data[o + j]! * data[o + j]!;
    // A zero vector stays zero (no direction to keep); cosine with it is 0.
    if (s === 0) continue;
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < dim; j++) data[o + j] = data[o + j]! * inv;
  }
}

/** Index of the first row holding a NaN or infinite value, or -1. */
export function firstNonFinite(data: Float32Array, dim: number): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return Math.floor(i / dim);
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Sentence-transformer folders

export interface TransformerOptions extends SessionChoice {
  maxLength?: number;
  pooling: 'auto' | 'mean' | 'cls';
  batchSize: number;
}

function readJsonIfExists(file: string): Record<string, unknown> | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new NodeError(`${file.split(/[\\/]/).pop()} is not valid JSON: ${(err as Error).message}`, { file, field: 'params.model' });
  }
}

/** model.onnx at the folder root, or onnx/model.onnx (the Hugging Face hub layout). */
export function modelFileOf(dir: string): string | undefined {
  for (const f of [join(dir, 'model.onnx'), join(dir, 'onnx', 'model.onnx')]) if (existsSync(f)) return f;
  return undefined;
}

/** Files of a model folder that decide its outputs (hashed into the cache key and pinned on export). */
export function modelFolderFiles(dir: string): string[] {
  const files = [modelFileOf(dir) ?? join(dir, 'model.onnx'), join(dir, 'tokenizer.json')];
  for (const f of ['tokenizer_config.json', 'config.json', 'sentence_bert_config.json', join('1_Pooling', 'config.json')]) if (existsSync(join(dir, f))) files.push(join(dir, f));
  return files;
}

export class TransformerEncoder implements TextEncoderModel {
  private constructor(
    readonly model: string,
    readonly modelHash: string,
    readonly dim: number,
    readonly device: Device,
    readonly pooling: 'mean' | 'cls',
    readonly maxLength: number,
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: TextTokenizer,
    private readonly inputNames: { ids: string; mask?: string; types?: string },
    private readonly outputName: string,
    private readonly pooled: boolean,
    private readonly batchSize: number,
  ) {}

  static async open(dir: string, opts: TransformerOptions): Promise<TransformerEncoder> {
    if (!existsSync(dir)) throw new NodeError(`model folder not found`, { file: dir, field: 'params.model' });
    const modelFile = modelFileOf(dir);
    if (!modelFile) throw new NodeError(`no model.onnx (or onnx/model.onnx) in the model folder`, { file: dir, field: 'params.model' });
    const tokenizer = TextTokenizer.fromModelFolder(dir);
    const config = readJsonIfExists(join(dir, 'config.json')) ?? {};
    const stConfig = readJsonIfExists(join(dir, 'sentence_bert_config.json')) ?? {};
    const poolCfg = readJsonIfExists(join(dir, '1_Pooling', 'config.json')) ?? {};
    const maxPos = typeof config.max_position_embeddings === 'number' ? config.max_position_embeddings : undefined;
    let maxLength = opts.maxLength ?? (typeof stConfig.max_seq_length === 'number' ? stConfig.max_seq_length : undefined) ?? tokenizer.declaredMaxLength() ?? maxPos ?? 512;
    if (maxPos !== undefined && maxLength > maxPos) {
      opts.log?.(`max length ${maxLength} exceeds the model's ${maxPos} positions; using ${maxPos}`, 'warn');
      maxLength = maxPos;
    }
    const pooling = opts.pooling === 'auto' ? (poolCfg.pooling_mode_cls_token === true ? 'cls' : 'mean') : opts.pooling;

    const bytes = readFileSync(modelFile);
    const modelHash = sha256(`${sha256Hex(bytes)}\u0000${sha256Hex(readFileSync(tokenizer.file))}`);
    const { session, device } = await openSession(bytes, opts, modelFile);
    const names = session.inputNames;
    const find = (...cands: string[]) => cands.find((c) => names.includes(c));
    const ids = find('input_ids');
    if (!ids) throw new NodeError(`model.onnx has no input_ids input (inputs: ${names.join(', ')}); not a Hugging Face text encoder export`, { file: modelFile, field: 'params.model' });
    const inputNames = { ids, mask: find('attention_mask'), types: find('token_type_ids') };
    const outs = session.outputNames;
    const outputName = ['last_hidden_state', 'token_embeddings', 'sentence_embedding'].find((o) => outs.includes(o)) ?? outs[0]!;

    // Probe with the tokenizer's largest id: a model with a smaller vocabulary fails here, clearly.
    const enc = new TransformerEncoder(
      String(config._name_or_path ?? dir.split(/[\\/]/).filter(Boolean).pop()),
      modelHash,
      0,
      device,
      pooling,
      maxLength,
      session,
      tokenizer,
      inputNames,
      outputName,
      false,
      opts.batchSize,
    );
    let probe: ort.Tensor;
    try {
      probe = await enc.run([Int32Array.of(tokenizer.vocabSize - 1)], 1);
    } catch (err) {
      const msg = (err as Error).message;
      if (/out of (data )?bounds|indices|out of range/i.test(msg)) {
        throw new NodeError(`the tokenizer's vocabulary (${tokenizer.vocabSize} ids) does not fit the model's embedding table: ${msg.split('\n')[0]}`, { file: modelFile, field: 'params.model' });
      }
      throw new NodeError(`model.onnx failed on a probe input: ${msg.split('\n')[0]}`, { file: modelFile, field: 'params.model' });
    }
    const pooled = probe.dims.length === 2;
    const dim = Number(probe.dims[probe.dims.length - 1]);
    return new TransformerEncoder(enc.model, modelHash, dim, device, pooling, maxLength, session, tokenizer, inputNames, outputName, pooled, opts.batchSize);
  }

  private buildFeeds(batch: readonly Int32Array[], L: number): Record<string, ort.Tensor> {
    const B = batch.length;
    const ids = new BigInt64Array(B * L).fill(BigInt(this.tokenizer.padId));
    const mask = new BigInt64Array(B * L);
    for (let b = 0; b < B; b++) {
      const row = batch[b]!;
      for (let j = 0; j < row.length; j++) {
        ids[b * L + j] = BigInt(row[j]!);
        mask[b * L + j] = 1n;
      }
    }
    const feeds: Record<string, ort.Tensor> = { [this.inputNames.ids]: new ort.Tensor('int64', ids, [B, L]) };
    if (this.inputNames.mask) feeds[this.inputNames.mask] = new ort.Tensor('int64', mask, [B, L]);
    if (this.inputNames.types) feeds[this.inputNames.types] = new ort.Tensor('int64', new BigInt64Array(B * L), [B, L]);
    return feeds;
  }

  private async run(batch: readonly Int32Array[], L: number): Promise<ort.Tensor> {
    const out = await this.session.run(this.buildFeeds(batch, L), [this.outputName]);
    return out[this.outputName]!;
  }

  /** Token ids of every text (the tokenizer step alone; exposed for the overhead benchmark). */
  tokenizeAll(texts: readonly string[]): { ids: Int32Array[]; truncated: number; firstTruncated: number } {
    let truncated = 0;
    let firstTruncated = -1;
    const ids = texts.map((t, i) => {
      const e = this.tokenizer.encodeForModel(t, this.maxLength);
      if (e.truncated) {
        truncated++;
        if (firstTruncated < 0) firstTruncated = i;
      }
      return e.ids;
    });
    return { ids, truncated, firstTruncated };
  }

  async encode(texts: readonly string[], hooks: EncodeHooks = {}): Promise<Encoded> {
    const { ids, truncated } = this.tokenizeAll(texts);
    const data = await this.encodeIds(ids, hooks);
    return { data, truncated };
  }

  /**
   * Batches over length-sorted rows with a padded-token budget of batchSize × maxLength: long texts
   * go batchSize at a time, short ones many more per call (up to 8 × batchSize), so every call is a
   * well-sized matrix product. A batch also ends once padding would pass PAD_SHARE of its positions
   * (after MIN_DOCS rows): with many short texts per call, lengths from 10 to 30 tokens in one batch
   * would otherwise pad a third of the work.
   */
  planBatches(lengths: ArrayLike<number>): number[][] {
    return planLengthBatches(lengths, this.batchSize, this.maxLength);
  }

  /** Embeds pre-tokenised texts: sort by length, batch, run, pool, restore order. */
  async encodeIds(ids: readonly Int32Array[], hooks: EncodeHooks = {}): Promise<Float32Array> {
    const n = ids.length;
    const dim = this.dim;
    const data = new Float32Array(n * dim);
    let done = 0;
    for (const rows of this.planBatches(ids.map((r) => r.length))) {
      if (hooks.signal) throwIfAborted(hooks.signal);
      const batch = rows.map((i) => ids[i]!);
      const L = Math.max(1, ...batch.map((r) => r.length));
      const out = await this.run(batch, L);
      const y = out.data as Float32Array;
      rows.forEach((row, b) => {
        const dst = row * dim;
        if (this.pooled) {
          data.set(y.subarray(b * dim, (b + 1) * dim), dst);
          return;
        }
        const base = b * L * dim;
        if (this.pooling === 'cls') {
          data.set(y.subarray(base, base + dim), dst);
          return;
        }
        const len = batch[b]!.length;
        for (let t = 0; t < len; t++) {
          const o = base + t * dim;
          for (let j = 0; j < dim; j++) data[dst + j] = data[dst + j]! + y[o + j]!;
        }
        const inv = 1 / Math.max(1, len);
        for (let j = 0; j < dim; j++) data[dst + j] = data[dst + j]! * inv;
      });
      done += rows.length;
      hooks.progress?.(done, n);
    }
    return data;
  }

  /** The input tensors of one batch (exposed for the overhead benchmark). */
  feeds(batch: readonly Int32Array[]): Record<string, ort.Tensor> {
    return this.buildFeeds(batch, Math.max(1, ...batch.map((r) => r.length)));
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

// ---------------------------------------------------------------------------------------------
// fastText-style embedding bags

export interface HashedOptions {
  dim: number;
  buckets: number;
  minn: number;
  maxn: number;
  wordNgrams: number;
  /** Seed of the random weights: part of the model's identity, independent of the graph seed. */
  seed: number;
  preprocess: Preprocess;
}

export const DEFAULT_HASHED: HashedOptions = { dim: 128, buckets: 131072, minn: 3, maxn: 5, wordNgrams: 2, seed: 0, preprocess: 'lower-punct' };

/** Texts featurised at once by BagEncoder.encode (bounds the memory of the feature rows). */
const FEATURE_CHUNK = 4096;

export class BagEncoder implements TextEncoderModel {
  readonly pooling = 'mean';
  private constructor(
    readonly model: string,
    readonly modelHash: string,
    readonly dim: number,
    readonly device: Device,
    private readonly session: ort.InferenceSession,
    private readonly padId: number,
    private readonly features: (text: string) => Int32Array,
    private readonly batchSize: number,
  ) {}

  /**
   * The built-in offline model: every word, word n-gram (up to wordNgrams) and char n-gram
   * (minn..maxn, fastText's `<word>` convention) is hashed into `buckets` rows of a random normal
   * matrix, and a text is the mean of its rows — a random projection of its bag of n-grams, so
   * cosine similarity tracks shared vocabulary and spelling. Built as an ONNX graph in memory.
   */
  static async hashed(o: HashedOptions, choice: SessionChoice & { batchSize: number }): Promise<BagEncoder> {
    const dict = new Dictionary({ entries: [], counts: [], types: [], ntokens: 0, pruneIdx: null }, { minn: o.minn, maxn: o.maxn, wordNgrams: o.wordNgrams, bucket: o.buckets, label: '__label__' });
    const rng = new Rng(o.seed);
    const table = new Float32Array(o.buckets * o.dim);
    for (let i = 0; i < table.length; i++) table[i] = rng.normal();
    const g = new OnnxGraph('hashed_ngram_embedder');
    const ids = g.input('ids', 'int64', ['batch', 'length']);
    const { hidden, padId } = embeddingBag(g, ids, dense(o.buckets, o.dim, table), 'ngram_table');
    g.output(hidden, 'float32', ['batch', o.dim]);
    const bytes = g.encode({ docString: `Forge hashed n-gram embedder ${JSON.stringify(o)}` });
    const { session, device } = await openSession(bytes, choice);
    const name = `forge-hashed-ngram(dim=${o.dim},buckets=${o.buckets},n=${o.minn}-${o.maxn},words=${o.wordNgrams},seed=${o.seed})`;
    const features = (text: string) => {
      const tokens = tokenize(text, o.preprocess);
      const f = dict.featurize(tokens);
      // fastText gives unknown words only their char n-grams; with no vocabulary, add the words too.
      const out = new Int32Array(f.length + tokens.length);
      out.set(f);
      tokens.forEach((t, i) => (out[f.length + i] = dict.tokenHash(t) % o.buckets));
      return out;
    };
    return new BagEncoder(name, sha256(bytes), o.dim, device, session, padId, features, choice.batchSize);
  }

  /** The sentence vectors of a classifier trained (or loaded) by Forge: its `hidden` output. */
  static async fromClassifier(onnxBytes: Uint8Array, manifest: FastTextManifest, modelHash: string, choice: SessionChoice & { batchSize: number }): Promise<BagEncoder> {
    const model = fastTextFromOnnx(onnxBytes, manifest);
    const { session, device } = await openSession(onnxBytes, choice);
    return new BagEncoder(`fasttext-classifier:${modelHash.slice(7, 19)}`, modelHash, model.args.dim, device, session, manifest.padId, (t) => model.features(t), choice.batchSize);
  }

  async encode(texts: readonly string[], hooks: EncodeHooks = {}): Promise<Encoded> {
    const n = texts.length;
    const dim = this.dim;
    const data = new Float32Array(n * dim);
    // Featurised a chunk at a time: ~2k int32 rows per web page would otherwise hold gigabytes
    // for a million texts. Each row's mean is independent of its batch, so chunking changes nothing.
    for (let c0 = 0; c0 < n; c0 += FEATURE_CHUNK) {
      const c1 = Math.min(n, c0 + FEATURE_CHUNK);
      const feats: Int32Array[] = [];
      for (let i = c0; i < c1; i++) feats.push(this.features(texts[i]!));
      const order = lengthOrder(feats.map((f) => f.length));
      for (let start = 0; start < order.length; start += this.batchSize) {
        if (hooks.signal) throwIfAborted(hooks.signal);
        const rows = order.slice(start, start + this.batchSize);
        const { data: idsData, length } = padIds(
          rows.map((r) => feats[r]!),
          this.padId,
        );
        const out = await this.session.run({ ids: new ort.Tensor('int64', idsData, [rows.length, length]) }, ['hidden']);
        const y = out.hidden!.data as Float32Array;
        rows.forEach((row, b) => data.set(y.subarray(b * dim, (b + 1) * dim), (c0 + row) * dim));
        hooks.progress?.(c0 + Math.min(order.length, start + this.batchSize), n);
      }
    }
    return { data, truncated: 0 };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
