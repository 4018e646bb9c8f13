/**
 * The n-gram LM artifact (`forge-ngram-lm` v1), shared by the trainer and the evaluator.
 *
 * A model artifact folder holds:
 *   model.json      header: format, order, vocabulary, BOS/EOS ids, discounts, counts, tokenizer
 *   model.bin       the tables (little-endian), see below
 *   tokenizer.json  a copy of the tokenizer the ids come from (+ tokenizer_config.json if any)
 *
 * Token ids are the tokenizer's ids; BOS = vocabSize and EOS = vocabSize + 1 are added. Every
 * document is scored as BOS t1 … tm EOS (EOS is predicted, BOS is not).
 *
 * model.bin: magic "FNGRAMLM" (8 bytes), uint32 version (1), uint32 order N; then for each order
 * k = 1..N two tables:
 *   probabilities: uint32 count; uint32 ids[count·k] (the n-grams h·w, sorted); float32 lnP[count]
 *                  — ln P_k(w | h), the interpolated probability of w after h;
 *   backoffs:      uint32 count; uint32 ids[count·(k−1)] (contexts h, sorted); float32 lnγ[count]
 *                  — ln γ_k(h), the weight given to the lower order after h.
 * Scoring w after a history (standard backoff over interpolated entries, as in ARPA files):
 *   ln P(w | h) = ln P_k(w | h_k) for the longest h_k (suffix of h, k ≤ N) with an entry h_k·w,
 *                 plus ln γ_j(h_j) for every longer context h_j (j > k) that has a backoff entry;
 *   a token with no unigram entry gets ln(γ_1(ε) / |V|), |V| = vocabSize + 1 (EOS counts, BOS not).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const MODEL_FORMAT = 'forge-ngram-lm';
export const MODEL_VERSION = 1;
const MAGIC = 'FNGRAMLM';

export interface ModelHeader {
  format: typeof MODEL_FORMAT;
  version: number;
  smoothing: 'interpolated-modified-kneser-ney';
  order: number;
  vocabSize: number;
  bos: number;
  eos: number;
  /** |V| for the uniform base distribution: vocabSize + 1. */
  uniformSize: number;
  /** [D1, D2, D3+] per order 1..N. */
  discounts: number[][];
  /** Orders whose count-of-counts gave no valid discounts, so the fallback was used. */
  discountFallbackOrders: number[];
  /** KenLM-style thresholds: an n-gram of order k ≥ 2 with adjusted count ≤ prune[k−1] is dropped. */
  prune: number[];
  /** Probability entries per order, and pruned ones. */
  ngrams: number[];
  pruned: number[];
  contexts: number[];
  training: { documents: number; tokens: number; predictedTokens: number };
  tokenizer: { file: string; sha256: string; name: string };
  files: Record<string, string>;
}

/** Fixed-width string keys: each id is 1 UTF-16 unit when ids fit in 16 bits, else 2. */
export class KeyCodec {
  readonly width: 1 | 2;
  constructor(idSpace: number) {
    this.width = idSpace <= 0x10000 ? 1 : 2;
  }
  char(id: number): string {
    return this.width === 1 ? String.fromCharCode(id) : String.fromCharCode(id >>> 16, id & 0xffff);
  }
  encode(ids: ArrayLike<number>, start = 0, end = ids.length): string {
    let s = '';
    for (let i = start; i < end; i++) s += this.char(ids[i] as number);
    return s;
  }
  decode(key: string): number[] {
    const out: number[] = [];
    if (this.width === 1) for (let i = 0; i < key.length; i++) out.push(key.charCodeAt(i));
    else for (let i = 0; i < key.length; i += 2) out.push(key.charCodeAt(i) * 0x10000 + key.charCodeAt(i + 1));
    return out;
  }
}

export interface ModelTables {
  /** Per order k (index k−1): key of h·w → ln P_k(w|h). */
  logp: Map<string, number>[];
  /** Per order k (index k−1): key of h → ln γ_k(h). Order 1 holds the empty context. */
  logBackoff: Map<string, number>[];
}

export function writeModel(dir: string, header: ModelHeader, tables: ModelTables, codec: KeyCodec): void {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(16);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(MODEL_VERSION, 8);
  head.writeUInt32LE(header.order, 12);
  parts.push(head);
  const table = (map: Map<string, number>, n: number) => {
    const keys = [...map.keys()].sort();
    const count = Buffer.alloc(4);
    count.writeUInt32LE(keys.length, 0);
    const ids = new Uint32Array(keys.length * n);
    const vals = new Float32Array(keys.length);
    keys.forEach((k, i) => {
      const dec = codec.decode(k);
      for (let j = 0; j < n; j++) ids[i * n + j] = dec[j] as number;
      vals[i] = map.get(k) as number;
    });
    parts.push(count, Buffer.from(ids.buffer, ids.byteOffset, ids.byteLength), Buffer.from(vals.buffer, vals.byteOffset, vals.byteLength));
  };
  for (let k = 1; k <= header.order; k++) {
    table(tables.logp[k - 1] as Map<string, number>, k);
    table(tables.logBackoff[k - 1] as Map<string, number>, k - 1);
  }
  writeFileSync(join(dir, 'model.bin'), Buffer.concat(parts));
  writeFileSync(join(dir, 'model.json'), `${JSON.stringify(header, null, 2)}\n`);
}

export class NgramModel {
  readonly codec: KeyCodec;
  constructor(
    readonly header: ModelHeader,
    readonly tables: ModelTables,
  ) {
    this.codec = new KeyCodec(header.vocabSize + 2);
  }

  static load(dir: string): NgramModel {
    const header = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as ModelHeader;
    if (header.format !== MODEL_FORMAT) throw new Error(`not a ${MODEL_FORMAT} model (format ${String(header.format)})`);
    if (header.version !== MODEL_VERSION) throw new Error(`${MODEL_FORMAT} version ${header.version} is not supported (expected ${MODEL_VERSION})`);
    const buf = readFileSync(join(dir, 'model.bin'));
    if (buf.toString('latin1', 0, 8) !== MAGIC) throw new Error('model.bin: bad magic');
    const order = buf.readUInt32LE(12);
    const codec = new KeyCodec(header.vocabSize + 2);
    let off = 16;
    const read = (n: number): Map<string, number> => {
      const count = buf.readUInt32LE(off);
      off += 4;
      // Copy into aligned arrays (the Buffer may not be 4-byte aligned).
      const ids = new Uint32Array(buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + off + count * n * 4));
      off += count * n * 4;
      const vals = new Float32Array(buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + off + count * 4));
      off += count * 4;
      const map = new Map<string, number>();
      for (let i = 0; i < count; i++) map.set(codec.encode(ids, i * n, i * n + n), vals[i] as number);
      return map;
    };
    const logp: Map<string, number>[] = [];
    const logBackoff: Map<string, number>[] = [];
    for (let k = 1; k <= order; k++) {
      logp.push(read(k));
      logBackoff.push(read(k - 1));
    }
    return new NgramModel(header, { logp, logBackoff });
  }

  /** ln P(w | history) where `key` is the encoded history (≤ N−1 ids) followed by w. */
  logProbKey(key: string): number {
    const w = this.codec.width;
    let acc = 0;
    for (let k = key.length / w; k >= 1; k--) {
      const start = key.length - k * w;
      const sub = start === 0 ? key : key.slice(start);
      const lp = this.tables.logp[k - 1]?.get(sub);
      if (lp !== undefined) return acc + lp;
      acc += this.tables.logBackoff[k - 1]?.get(sub.slice(0, sub.length - w)) ?? 0;
    }
    // acc now includes ln γ_1(ε): the uniform share of an unseen token.
    return acc - Math.log(this.header.uniformSize);
  }

  logProb(history: readonly number[], w: number): number {
    const h = history.slice(Math.max(0, history.length - (this.header.order - 1)));
    return this.logProbKey(this.codec.encode([...h, w]));
  }

  /**
   * Sum of −ln P over a document (BOS t1 … tm EOS): the NLL, the number of predictions, and how
   * many predicted tokens never occurred in training (scored by the uniform floor).
   */
  scoreDocument(ids: readonly number[]): { nll: number; predictions: number; unseen: number } {
    const { bos, eos, order } = this.header;
    const seq = [bos, ...ids, eos];
    let s = '';
    for (const id of seq) s += this.codec.char(id);
    const w = this.codec.width;
    const unigrams = this.tables.logp[0] as Map<string, number>;
    let nll = 0;
    let unseen = 0;
    for (let i = 1; i < seq.length; i++) {
      const start = Math.max(0, i - order + 1);
      nll -= this.logProbKey(s.slice(start * w, (i + 1) * w));
      if (!unigrams.has(s.slice(i * w, (i + 1) * w))) unseen++;
    }
    return { nll, predictions: seq.length - 1, unseen };
  }
}
