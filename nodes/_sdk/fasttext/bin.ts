import { Dictionary, type DictionaryData } from './dictionary.js';
import { dense, KSUB, type DenseMatrix, type Matrix, type ProductQuantizer, type QuantMatrix } from './matrix.js';
import { FastTextModel, LOSSES, MODEL_NAMES, type FastTextArgs } from './model.js';

/**
 * Reader and writer for fastText's binary model format (`.bin`, and `.ftz` = quantized):
 * magic, version, Args, Dictionary (+ pruning index), quant flag, input matrix, qout flag, output
 * matrix — all little-endian, as `FastText::saveModel` writes them.
 */

export const FASTTEXT_MAGIC = 793712314;
export const FASTTEXT_VERSION = 12;

export class FastTextFormatError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at byte ${offset})`);
    this.name = 'FastTextFormatError';
  }
}

class Reader {
  private readonly view: DataView;
  pos = 0;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw new FastTextFormatError(`file ends inside ${what}: truncated or not a fastText model`, this.pos);
  }
  i32(what: string): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  i64(what: string): number {
    this.need(8, what);
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw new FastTextFormatError(`${what} out of range: ${v}`, this.pos - 8);
    return Number(v);
  }
  f64(what: string): number {
    this.need(8, what);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }
  bool(what: string): boolean {
    return this.u8(what) !== 0;
  }
  cstring(what: string): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new FastTextFormatError(`unterminated ${what}`, this.pos);
    const s = new TextDecoder('utf-8', { fatal: false }).decode(this.buf.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }
  floats(n: number, what: string): Float32Array {
    this.need(n * 4, what);
    const out = new Float32Array(n);
    // Copy through bytes: the source offset need not be 4-aligned.
    new Uint8Array(out.buffer).set(this.buf.subarray(this.pos, this.pos + n * 4));
    this.pos += n * 4;
    return out;
  }
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

function readArgs(r: Reader): FastTextArgs {
  const dim = r.i32('args.dim');
  const ws = r.i32('args.ws');
  const epoch = r.i32('args.epoch');
  const minCount = r.i32('args.minCount');
  const neg = r.i32('args.neg');
  const wordNgrams = r.i32('args.wordNgrams');
  const lossCode = r.i32('args.loss');
  const modelCode = r.i32('args.model');
  const bucket = r.i32('args.bucket');
  const minn = r.i32('args.minn');
  const maxn = r.i32('args.maxn');
  const lrUpdateRate = r.i32('args.lrUpdateRate');
  const t = r.f64('args.t');
  const loss = LOSSES[lossCode - 1];
  const model = MODEL_NAMES[modelCode - 1];
  if (!loss) throw new FastTextFormatError(`unknown loss code ${lossCode}`, r.pos);
  if (!model) throw new FastTextFormatError(`unknown model code ${modelCode}`, r.pos);
  if (dim <= 0 || dim > 100000) throw new FastTextFormatError(`implausible dimension ${dim}`, 8);
  return { dim, ws, epoch, minCount, neg, wordNgrams, loss, model, bucket, minn, maxn, lrUpdateRate, t, label: '__label__' };
}

function readDictionary(r: Reader): DictionaryData {
  const size = r.i32('dictionary.size');
  const nwords = r.i32('dictionary.nwords');
  const nlabels = r.i32('dictionary.nlabels');
  const ntokens = r.i64('dictionary.ntokens');
  const pruneSize = r.i64('dictionary.pruneidx_size');
  if (size < 0 || nwords < 0 || nlabels < 0 || nwords + nlabels !== size) throw new FastTextFormatError(`inconsistent dictionary sizes (${size} = ${nwords} words + ${nlabels} labels?)`, r.pos);
  const entries: string[] = [];
  const counts: number[] = [];
  const types: number[] = [];
  for (let i = 0; i < size; i++) {
    entries.push(r.cstring('dictionary entry'));
    counts.push(r.i64('dictionary count'));
    types.push(r.u8('dictionary type'));
  }
  let pruneIdx: Map<number, number> | null = null;
  if (pruneSize >= 0) {
    pruneIdx = new Map();
    for (let i = 0; i < pruneSize; i++) {
      const first = r.i32('pruneidx');
      pruneIdx.set(first, r.i32('pruneidx'));
    }
  }
  return { entries, counts, types, ntokens, pruneIdx };
}

function readDense(r: Reader, what: string): DenseMatrix {
  const m = r.i64(`${what}.rows`);
  const n = r.i64(`${what}.cols`);
  if (m < 0 || n < 0 || m * n * 4 > 2 ** 33) throw new FastTextFormatError(`implausible ${what} shape ${m}x${n}`, r.pos);
  return dense(m, n, r.floats(m * n, what));
}

function readPq(r: Reader, what: string): ProductQuantizer {
  const dim = r.i32(`${what}.dim`);
  const nsubq = r.i32(`${what}.nsubq`);
  const dsub = r.i32(`${what}.dsub`);
  const lastdsub = r.i32(`${what}.lastdsub`);
  return { dim, nsubq, dsub, lastdsub, centroids: r.floats(dim * KSUB, `${what}.centroids`) };
}

function readQuant(r: Reader, what: string): QuantMatrix {
  const qnorm = r.bool(`${what}.qnorm`);
  const rows = r.i64(`${what}.rows`);
  const cols = r.i64(`${what}.cols`);
  const codesize = r.i32(`${what}.codesize`);
  const codes = r.bytes(codesize, `${what}.codes`);
  const pq = readPq(r, `${what}.pq`);
  let normCodes: Uint8Array | null = null;
  let npq: ProductQuantizer | null = null;
  if (qnorm) {
    normCodes = r.bytes(rows, `${what}.norm_codes`);
    npq = readPq(r, `${what}.npq`);
  }
  return { kind: 'quant', rows, cols, qnorm, codes, pq, normCodes, npq };
}

export interface LoadedFastText {
  model: FastTextModel;
  version: number;
  quantized: boolean;
}

/** Parses a fastText `.bin` / `.ftz`. Throws FastTextFormatError on anything that is not one. */
export function readFastText(buf: Uint8Array): LoadedFastText {
  const r = new Reader(buf);
  if (buf.length < 8) throw new FastTextFormatError('file too short to be a fastText model', 0);
  const magic = r.i32('magic');
  if (magic !== FASTTEXT_MAGIC) throw new FastTextFormatError(`not a fastText model (magic ${magic}, expected ${FASTTEXT_MAGIC})`, 0);
  const version = r.i32('version');
  if (version > FASTTEXT_VERSION) throw new FastTextFormatError(`fastText format version ${version} is newer than supported (${FASTTEXT_VERSION})`, 4);
  const args = readArgs(r);
  // Models of format 11 used no char n-grams for supervised training.
  if (version === 11 && args.model === 'sup') args.maxn = 0;
  const dictData = readDictionary(r);
  const quantInput = r.bool('quant flag');
  const input: Matrix = quantInput ? readQuant(r, 'input matrix') : readDense(r, 'input matrix');
  const qout = r.bool('qout flag');
  const output: Matrix = quantInput && qout ? readQuant(r, 'output matrix') : readDense(r, 'output matrix');
  if (r.pos !== buf.length) throw new FastTextFormatError(`${buf.length - r.pos} unexpected trailing bytes`, r.pos);
  const dict = new Dictionary(dictData, { minn: args.minn, maxn: args.maxn, wordNgrams: args.wordNgrams, bucket: args.bucket, label: args.label });
  if (input.cols !== args.dim || output.cols !== args.dim) throw new FastTextFormatError(`matrix width ${input.cols}/${output.cols} differs from dim ${args.dim}`, r.pos);
  if (input.rows !== dict.inputRows) throw new FastTextFormatError(`input matrix has ${input.rows} rows, dictionary needs ${dict.inputRows}`, r.pos);
  return { model: new FastTextModel(args, dict, input, output), version, quantized: quantInput };
}

class Writer {
  private chunks: Uint8Array[] = [];
  private scratch = new DataView(new ArrayBuffer(8));
  bytes(b: Uint8Array): void {
    this.chunks.push(b.slice());
  }
  i32(v: number): void {
    this.scratch.setInt32(0, v, true);
    this.chunks.push(new Uint8Array(this.scratch.buffer.slice(0, 4)));
  }
  i64(v: number): void {
    this.scratch.setBigInt64(0, BigInt(v), true);
    this.chunks.push(new Uint8Array(this.scratch.buffer.slice(0, 8)));
  }
  f64(v: number): void {
    this.scratch.setFloat64(0, v, true);
    this.chunks.push(new Uint8Array(this.scratch.buffer.slice(0, 8)));
  }
  u8(v: number): void {
    this.chunks.push(Uint8Array.of(v));
  }
  floats(a: Float32Array): void {
    this.chunks.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  finish(): Uint8Array {
    const total = this.chunks.reduce((s, c) => s + c.length, 0);
    const out = new Uint8Array(total);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

/** Writes a dense supervised model as a fastText `.bin` the `fasttext` CLI can load. */
export function writeFastText(model: FastTextModel): Uint8Array {
  const { args, dict } = model;
  if (model.input.kind !== 'dense' || model.output.kind !== 'dense') throw new Error('writing quantized models is not supported');
  // fastText rejects a pruned dictionary in a non-quantized model ("Invalid model file", issue #332).
  if (dict.pruneIdx) throw new Error('a compact model (pruned buckets) cannot be saved as a fastText .bin; train with compact: false');
  const w = new Writer();
  w.i32(FASTTEXT_MAGIC);
  w.i32(FASTTEXT_VERSION);
  for (const v of [
    args.dim,
    args.ws,
    args.epoch,
    args.minCount,
    args.neg,
    args.wordNgrams,
    LOSSES.indexOf(args.loss) + 1,
    MODEL_NAMES.indexOf(args.model) + 1,
    args.bucket,
    args.minn,
    args.maxn,
    args.lrUpdateRate,
  ])
    w.i32(v);
  w.f64(args.t);
  w.i32(dict.entries.length);
  w.i32(dict.nwords);
  w.i32(dict.nlabels);
  w.i64(dict.ntokens);
  w.i64(-1);
  const enc = new TextEncoder();
  for (let i = 0; i < dict.entries.length; i++) {
    w.bytes(enc.encode(dict.entries[i]!));
    w.u8(0);
    w.i64(dict.counts[i]!);
    w.u8(dict.types[i]!);
  }
  w.u8(0);
  w.i64(model.input.rows);
  w.i64(model.input.cols);
  w.floats(model.input.data);
  w.u8(0);
  w.i64(model.output.rows);
  w.i64(model.output.cols);
  w.floats(model.output.data);
  return w.finish();
}
