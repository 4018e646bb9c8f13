import { FNV_START, fnvHash, fnvStep, wordNgramBuckets } from './hash.js';

/** End-of-sentence token fastText appends to every line (and keeps in the vocabulary). */
export const EOS = '</s>';
export const BOW = '<';
export const EOW = '>';
export const LABEL_PREFIX = '__label__';

export const ENTRY_WORD = 0;
export const ENTRY_LABEL = 1;

/** The subset of fastText's Args that changes features (the rest is training-only). */
export interface FeatureArgs {
  minn: number;
  maxn: number;
  wordNgrams: number;
  bucket: number;
  label: string;
}

export interface DictionaryData {
  /** Words first (ids 0..nwords-1), then labels, as fastText orders them. */
  entries: string[];
  counts: number[];
  types: number[];
  ntokens: number;
  /** fastText's pruneidx_ (bucket → compact row) of a quantized model; null when not pruned. */
  pruneIdx: Map<number, number> | null;
}

const encoder = new TextEncoder();

/** What one token contributes to a line: its input rows (none for a label) and its word hash. */
interface TokenFeatures {
  rows: Int32Array;
  hash: number;
  /** Output index of a known label, -1 for an unknown label-like token, undefined for a word. */
  label?: number;
}

/**
 * Distinct tokens whose features are kept. Web text is Zipfian: a few thousand words cover most
 * tokens, so the UTF-8 encoding and n-gram hashing run once per word instead of once per
 * occurrence. The cache is dropped when full (a long tail of rare words), which bounds its memory.
 */
const TOKEN_CACHE_MAX = 100_000;
const NO_ROWS: Int32Array = new Int32Array(0);

/** fastText's whitespace: the characters `readWord` splits on. */
const FT_SPACE = /[ \n\r\t\v\f\0]+/;

/**
 * fastText's Dictionary for feature extraction: vocabulary lookup, subword (char n-gram) ids,
 * word n-gram buckets, pruning of quantized models. `featurize` reproduces `getLine` + EOS for one
 * line of text, giving the rows of the input matrix that are averaged into the hidden vector.
 */
export class Dictionary {
  readonly entries: string[];
  readonly counts: number[];
  readonly types: number[];
  readonly nwords: number;
  readonly nlabels: number;
  readonly ntokens: number;
  readonly pruneIdx: Map<number, number> | null;
  readonly args: FeatureArgs;
  private readonly word2id = new Map<string, number>();
  private readonly subwordCache = new Map<number, Int32Array>();
  private readonly tokenCache = new Map<string, TokenFeatures>();
  /** Reused output buffer of featurize (grown as needed; the result is a copy). */
  private lineBuf = new Int32Array(4096);

  constructor(data: DictionaryData, args: FeatureArgs) {
    this.entries = data.entries;
    this.counts = data.counts;
    this.types = data.types;
    this.ntokens = data.ntokens;
    this.pruneIdx = data.pruneIdx;
    this.args = args;
    let nwords = 0;
    let nlabels = 0;
    for (let i = 0; i < this.entries.length; i++) {
      this.word2id.set(this.entries[i]!, i);
      if (this.types[i] === ENTRY_WORD) nwords++;
      else nlabels++;
    }
    this.nwords = nwords;
    this.nlabels = nlabels;
  }

  /** Rows of the input matrix: words plus (pruned) buckets. */
  get inputRows(): number {
    return this.nwords + (this.pruneIdx ? this.pruneIdx.size : this.args.bucket);
  }

  data(): DictionaryData {
    return { entries: this.entries, counts: this.counts, types: this.types, ntokens: this.ntokens, pruneIdx: this.pruneIdx };
  }

  getId(word: string): number {
    return this.word2id.get(word) ?? -1;
  }

  /** Label strings in output-row order (without changing the prefix). */
  labels(): string[] {
    return this.entries.slice(this.nwords);
  }

  labelCounts(): number[] {
    return this.counts.slice(this.nwords);
  }

  isLabel(token: string): boolean {
    return token.startsWith(this.args.label);
  }

  /** `pushHash`: maps a bucket to its row (through pruning), or drops it. */
  private pushHash(out: number[], id: number): void {
    if (this.pruneIdx) {
      if (this.pruneIdx.size === 0 || id < 0) return;
      const p = this.pruneIdx.get(id);
      if (p === undefined) return;
      out.push(this.nwords + p);
      return;
    }
    if (id < 0) return;
    out.push(this.nwords + id);
  }

  /** `computeSubwords` on `<word>` (UTF-8 aware), pushing bucket rows. */
  private computeSubwords(word: string, out: number[]): void {
    const { minn, maxn, bucket } = this.args;
    if (maxn <= 0 || bucket <= 0) return;
    const b = encoder.encode(BOW + word + EOW);
    const size = b.length;
    for (let i = 0; i < size; i++) {
      if ((b[i]! & 0xc0) === 0x80) continue;
      let h = FNV_START;
      for (let j = i, n = 1; j < size && n <= maxn; n++) {
        h = fnvStep(h, b[j++]!);
        while (j < size && (b[j]! & 0xc0) === 0x80) h = fnvStep(h, b[j++]!);
        if (n >= minn && !(n === 1 && (i === 0 || j === size))) this.pushHash(out, h % bucket);
      }
    }
  }

  /** Subwords of an in-vocabulary word: the word itself, then its char n-grams (cached). */
  private subwords(wid: number): Int32Array {
    let s = this.subwordCache.get(wid);
    if (!s) {
      const out = [wid];
      const w = this.entries[wid]!;
      if (w !== EOS) this.computeSubwords(w, out);
      s = Int32Array.from(out);
      this.subwordCache.set(wid, s);
    }
    return s;
  }

  /** fastText's word hash of a token (cached with its features). */
  tokenHash(token: string): number {
    return this.tokenFeatures(token).hash;
  }

  private tokenFeatures(token: string): TokenFeatures {
    let f = this.tokenCache.get(token);
    if (f) return f;
    const wid = this.getId(token);
    const isLabel = wid < 0 ? this.isLabel(token) : this.types[wid] === ENTRY_LABEL;
    let rows = NO_ROWS;
    if (!isLabel) {
      if (wid < 0) {
        if (token !== EOS) {
          const out: number[] = [];
          this.computeSubwords(token, out);
          rows = Int32Array.from(out);
        }
      } else if (this.args.maxn <= 0) {
        rows = Int32Array.of(wid);
      } else {
        rows = this.subwords(wid);
      }
    }
    f = { rows, hash: fnvHash(encoder.encode(token)), label: isLabel ? (wid >= 0 ? wid - this.nwords : -1) : undefined };
    if (this.tokenCache.size >= TOKEN_CACHE_MAX) this.tokenCache.clear();
    this.tokenCache.set(token, f);
    return f;
  }

  /**
   * Input rows for one line of tokens, as `Dictionary::getLine(in, words, labels)` computes them
   * for a line terminated by a newline: EOS is appended, labels are skipped (and returned), unknown
   * words contribute only their char n-grams, and word n-grams run over all word hashes.
   */
  featurize(tokens: readonly string[], labelsOut?: number[]): Int32Array {
    const n = tokens.length;
    const hashes = new Uint32Array(n + 1);
    let nh = 0;
    let buf = this.lineBuf;
    let len = 0;
    const room = (k: number) => {
      if (len + k <= buf.length) return;
      const bigger = new Int32Array(Math.max(len + k, buf.length * 2));
      bigger.set(buf.subarray(0, len));
      buf = this.lineBuf = bigger;
    };
    for (let t = 0; t <= n; t++) {
      const f = this.tokenFeatures(t < n ? tokens[t]! : EOS);
      if (f.label === undefined) {
        room(f.rows.length);
        buf.set(f.rows, len);
        len += f.rows.length;
        hashes[nh++] = f.hash;
      } else if (f.label >= 0 && labelsOut) {
        labelsOut.push(f.label);
      }
    }
    const ngrams: number[] = [];
    wordNgramBuckets(hashes.subarray(0, nh), this.args.wordNgrams, this.args.bucket, (bk) => this.pushHash(ngrams, bk));
    room(ngrams.length);
    for (const r of ngrams) buf[len++] = r;
    return buf.slice(0, len);
  }
}

/** Splits one text into fastText tokens: whitespace only, exactly as `readWord` (newlines are just spaces here). */
export function splitFastText(text: string): string[] {
  const t = text.split(FT_SPACE);
  if (t.length > 0 && t[0] === '') t.shift();
  if (t.length > 0 && t[t.length - 1] === '') t.pop();
  return t;
}

export type Preprocess = 'none' | 'lower' | 'lower-punct';
export const PREPROCESS = ['none', 'lower', 'lower-punct'] as const;

/**
 * Text normalisation applied before splitting. `none` is what the fastText CLI sees (use it for
 * models trained elsewhere); `lower-punct` is the fastText tutorial's recipe (lowercase, punctuation
 * as separate tokens), the default for models Forge trains. Stored in the model manifest so scoring
 * always matches training.
 */
export function preprocessText(text: string, mode: Preprocess): string {
  if (mode === 'none') return text;
  const lower = text.toLowerCase();
  if (mode === 'lower') return lower;
  return lower.replace(/([.!?,'"/()[\]{}:;=<>`*#|\\])/g, ' $1 ');
}

export function tokenize(text: string, mode: Preprocess): string[] {
  return splitFastText(preprocessText(text, mode));
}

/**
 * Builds a dictionary from tokenised training lines the way `readFromFile` + `threshold` do:
 * every line contributes its tokens plus EOS; words under `minCount` are dropped; words come first
 * sorted by count (ties by first occurrence, so the result is deterministic), then labels.
 */
export function buildDictionary(lines: Iterable<{ tokens: readonly string[]; label: string }>, args: FeatureArgs & { minCount: number; minCountLabel?: number }): Dictionary {
  const counts = new Map<string, number>();
  const labelCounts = new Map<string, number>();
  let ntokens = 0;
  for (const line of lines) {
    // Label-like tokens inside a text are not extra labels here (the label comes from the dataset);
    // they are skipped, as featurize skips unknown label-like tokens.
    for (const tok of line.tokens) if (!tok.startsWith(args.label)) counts.set(tok, (counts.get(tok) ?? 0) + 1);
    counts.set(EOS, (counts.get(EOS) ?? 0) + 1);
    labelCounts.set(line.label, (labelCounts.get(line.label) ?? 0) + 1);
    ntokens += line.tokens.length + 2;
  }
  const words = [...counts.entries()].filter(([, c]) => c >= args.minCount).sort((a, b) => b[1] - a[1]);
  const labels = [...labelCounts.entries()].filter(([, c]) => c >= (args.minCountLabel ?? 0)).sort((a, b) => b[1] - a[1]);
  return new Dictionary(
    {
      entries: [...words.map((w) => w[0]), ...labels.map((l) => l[0])],
      counts: [...words.map((w) => w[1]), ...labels.map((l) => l[1])],
      types: [...words.map(() => ENTRY_WORD), ...labels.map(() => ENTRY_LABEL)],
      ntokens,
      pruneIdx: null,
    },
    args,
  );
}
