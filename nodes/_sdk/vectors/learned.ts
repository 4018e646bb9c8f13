import { throwIfAborted } from '../../../engine/sdk/node-error.js';
import { fnv1a32, Rng } from '../rng.js';
import { lexicalTokens } from '../text/lexical.js';

/**
 * The learned embedder: a document vector built from two parts, both learned from the training
 * texts alone (no downloaded weights).
 *
 * - Lexical part: a random-indexing projection of the text's TF-IDF vector. Every vocabulary token
 *   gets a fixed random Gaussian vector scaled by its IDF; a text is Σ (1 + ln tf) · row, L2-normalised.
 *   With a few hundred dims the cosine of two such vectors approximates their TF-IDF cosine
 *   (Johnson–Lindenstrauss), so exact lexical identity survives the fixed-size vector.
 * - Semantic part: fastText-style skipgram vectors with subword n-grams, trained on the texts and
 *   combined SIF-style (Σ tf · a / (a + p(w)) · vector) with the corpus' first principal component
 *   removed, L2-normalised. It lets documents that share few exact tokens but related vocabulary match.
 *
 * The output is [√(1−mix) · lexical, √mix · semantic], so a dot product is (1−mix)·cos_lex + mix·cos_sem.
 * Tokens seen in fewer than `minCount` documents cannot make two training texts similar (only their
 * norms); they, and tokens unseen in training, share `oovBuckets` hashed rows.
 */

export interface LearnedOptions {
  /** Dims of the lexical (TF-IDF) part. */
  lexicalDim: number;
  /**
   * Of those, dims given one-to-one to the tokens that carry most of the corpus' TF-IDF mass (an
   * exact TF-IDF subspace); the other tokens share the remaining dims by random indexing.
   */
  exactDims: number;
  /** Skipgram vector dims of the semantic part (0 = lexical part only). */
  semanticDim: number;
  /** Share of the semantic part in the cosine, 0..1. */
  mix: number;
  /** Documents a token must occur in to get its own row. */
  minCount: number;
  oovBuckets: number;
  epochs: number;
  window: number;
  negatives: number;
  lr: number;
  /** Frequent-word subsampling threshold (word2vec's t). */
  subsample: number;
  /** Char n-gram range of the subword vectors (0/0 = words only). */
  minn: number;
  maxn: number;
  subwordBuckets: number;
  /** Skipgram tokens per epoch at most: an even sample of the texts beyond it (bounds training time). */
  maxTrainTokens: number;
  /** SIF smoothing a in a / (a + p(w)). */
  sifA: number;
  removePc: boolean;
  seed: number;
}

export const DEFAULT_LEARNED: LearnedOptions = {
  lexicalDim: 768,
  exactDims: 512,
  semanticDim: 64,
  mix: 0.3,
  minCount: 2,
  oovBuckets: 1024,
  epochs: 3,
  window: 5,
  negatives: 5,
  lr: 0.05,
  subsample: 1e-4,
  minn: 3,
  maxn: 5,
  subwordBuckets: 100_000,
  maxTrainTokens: 1_000_000,
  sifA: 1e-3,
  removePc: true,
  seed: 0,
};

/** A trained learned embedder: everything the ONNX graph and the TypeScript reference need. */
export interface LearnedModel {
  vocab: string[];
  oovBuckets: number;
  lexicalDim: number;
  semanticDim: number;
  mix: number;
  /** (vocab + oovBuckets) × lexicalDim, rows already scaled by IDF. */
  lexical: Float32Array;
  /** (vocab + oovBuckets) × semanticDim, rows already scaled by the SIF weight; OOV rows are zero. */
  semantic: Float32Array;
  /** Unit first principal component of the semantic document vectors (zeros when not removed). */
  pc: Float32Array;
}

export interface LearnedHooks {
  log?(message: string): void;
  progress?(done: number, total: number): void;
  signal?: AbortSignal;
}

export function learnedDim(m: Pick<LearnedModel, 'lexicalDim' | 'semanticDim'>): number {
  return m.lexicalDim + m.semanticDim;
}

/** Row ids of a text and their counts (one entry per distinct row): the graph's two inputs. */
export interface Features {
  ids: Int32Array;
  counts: Float32Array;
}

export class Featurizer {
  private readonly index: Map<string, number>;
  constructor(
    readonly vocab: readonly string[],
    readonly oovBuckets: number,
  ) {
    this.index = new Map(vocab.map((w, i) => [w, i]));
  }

  row(token: string): number {
    return this.index.get(token) ?? this.vocab.length + (fnv1a32(token) % this.oovBuckets);
  }

  features(text: string): Features {
    const counts = new Map<number, number>();
    for (const t of lexicalTokens(text)) {
      const r = this.row(t);
      counts.set(r, (counts.get(r) ?? 0) + 1);
    }
    return { ids: Int32Array.from(counts.keys()), counts: Float32Array.from(counts.values()) };
  }
}

function normalizeInPlace(v: Float32Array | Float64Array): void {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  if (s <= 0) return;
  const inv = 1 / Math.sqrt(s);
  for (let i = 0; i < v.length; i++) v[i] = v[i]! * inv;
}

/** Unnormalised SIF sum of a text's semantic rows. */
function semanticSum(m: LearnedModel, f: Features, out: Float64Array): void {
  const d = m.semanticDim;
  out.fill(0);
  for (let k = 0; k < f.ids.length; k++) {
    const base = f.ids[k]! * d;
    const c = f.counts[k]!;
    for (let j = 0; j < d; j++) out[j] = out[j]! + c * m.semantic[base + j]!;
  }
}

/**
 * The reference computation (float64 accumulation) of one document vector: what the ONNX graph
 * computes, used by the tests to check the export and by training to find the principal component.
 */
export function embedFeatures(m: LearnedModel, f: Features, out = new Float32Array(learnedDim(m))): Float32Array {
  const dl = m.lexicalDim;
  const ds = m.semanticDim;
  const a = new Float64Array(dl);
  for (let k = 0; k < f.ids.length; k++) {
    const base = f.ids[k]! * dl;
    const w = 1 + Math.log(f.counts[k]!);
    for (let j = 0; j < dl; j++) a[j] = a[j]! + w * m.lexical[base + j]!;
  }
  normalizeInPlace(a);
  const sa = Math.sqrt(1 - m.mix);
  for (let j = 0; j < dl; j++) out[j] = sa * a[j]!;
  if (ds > 0) {
    const b = new Float64Array(ds);
    semanticSum(m, f, b);
    let p = 0;
    for (let j = 0; j < ds; j++) p += b[j]! * m.pc[j]!;
    for (let j = 0; j < ds; j++) b[j] = b[j]! - p * m.pc[j]!;
    normalizeInPlace(b);
    const sb = Math.sqrt(m.mix);
    for (let j = 0; j < ds; j++) out[dl + j] = sb * b[j]!;
  }
  return out;
}

/** fastText's char n-grams of `<word>` (minn..maxn), hashed into buckets. */
function subwordRows(word: string, o: LearnedOptions, nwords: number): number[] {
  const out: number[] = [];
  if (o.maxn <= 0) return out;
  const chars = Array.from(`<${word}>`);
  for (let i = 0; i < chars.length; i++) {
    for (let n = o.minn; n <= o.maxn && i + n <= chars.length; n++) {
      if (n === 1 && (i === 0 || i + n === chars.length)) continue;
      if (n === chars.length) continue; // the whole word already has its own row
      out.push(nwords + (fnv1a32(chars.slice(i, i + n).join('')) % o.subwordBuckets));
    }
  }
  return out;
}

/**
 * Skipgram with negative sampling over subword-composed input vectors (fastText's model): a word's
 * vector is the mean of its own row and its char n-gram rows. Single-threaded and seeded, so a given
 * corpus and seed always give the same vectors. Returns vocab × dim composed vectors.
 */
function trainSkipgram(docs: readonly Int32Array[], wordCounts: Float64Array, o: LearnedOptions, vocab: readonly string[], hooks: LearnedHooks): Float32Array {
  const V = vocab.length;
  const d = o.semanticDim;
  const rng = new Rng(o.seed ^ 0x5eed);
  const subs = vocab.map((w, i) => Int32Array.from([i, ...subwordRows(w, o, V)]));
  const rows = V + (o.maxn > 0 ? o.subwordBuckets : 0);
  const input = new Float32Array(rows * d);
  for (let i = 0; i < input.length; i++) input[i] = (rng.next() * 2 - 1) / d;
  const output = new Float32Array(V * d);
  let total = 0;
  for (let i = 0; i < V; i++) total += wordCounts[i]!;
  // Negative-sampling table over counts^0.75, as word2vec / fastText.
  const TABLE = 1 << 20;
  const table = new Int32Array(TABLE);
  {
    let z = 0;
    for (let i = 0; i < V; i++) z += wordCounts[i]! ** 0.75;
    let i = 0;
    let acc = wordCounts[0]! ** 0.75 / z;
    for (let k = 0; k < TABLE; k++) {
      table[k] = i;
      if (k / TABLE > acc && i < V - 1) {
        i++;
        acc += wordCounts[i]! ** 0.75 / z;
      }
    }
  }
  const keep = new Float64Array(V);
  for (let i = 0; i < V; i++) {
    const f = wordCounts[i]! / total;
    keep[i] = o.subsample > 0 ? Math.min(1, Math.sqrt(o.subsample / f) + o.subsample / f) : 1;
  }
  const h = new Float32Array(d);
  const grad = new Float32Array(d);
  let trainTokens = 0;
  for (const doc of docs) trainTokens += doc.length;
  const steps = o.epochs * Math.max(1, trainTokens);
  let done = 0;
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    for (let di = 0; di < docs.length; di++) {
      if (hooks.signal && (di & 255) === 0) throwIfAborted(hooks.signal);
      const doc = docs[di]!;
      done += doc.length;
      const lr = o.lr * Math.max(1e-4, 1 - done / steps);
      const line: number[] = [];
      for (let k = 0; k < doc.length; k++) if (rng.next() < keep[doc[k]!]!) line.push(doc[k]!);
      for (let pos = 0; pos < line.length; pos++) {
        const sw = subs[line[pos]!]!;
        h.fill(0);
        for (let s = 0; s < sw.length; s++) {
          const base = sw[s]! * d;
          for (let j = 0; j < d; j++) h[j] = h[j]! + input[base + j]!;
        }
        const inv = 1 / sw.length;
        for (let j = 0; j < d; j++) h[j] = h[j]! * inv;
        grad.fill(0);
        const b = 1 + rng.int(o.window);
        for (let c = Math.max(0, pos - b); c <= Math.min(line.length - 1, pos + b); c++) {
          if (c === pos) continue;
          for (let n = 0; n <= o.negatives; n++) {
            let target: number;
            if (n === 0) target = line[c]!;
            else {
              target = table[rng.int(TABLE)]!;
              if (target === line[c]) continue;
            }
            const ob = target * d;
            let dot = 0;
            for (let j = 0; j < d; j++) dot += h[j]! * output[ob + j]!;
            const f = dot > 8 ? 1 : dot < -8 ? 0 : 1 / (1 + Math.exp(-dot));
            const g = lr * ((n === 0 ? 1 : 0) - f);
            for (let j = 0; j < d; j++) {
              grad[j] = grad[j]! + g * output[ob + j]!;
              output[ob + j] = output[ob + j]! + g * h[j]!;
            }
          }
        }
        for (let s = 0; s < sw.length; s++) {
          const base = sw[s]! * d;
          for (let j = 0; j < d; j++) input[base + j] = input[base + j]! + grad[j]!;
        }
      }
      if ((di & 255) === 0) hooks.progress?.(epoch * docs.length + di, o.epochs * docs.length);
    }
    hooks.log?.(`skipgram epoch ${epoch + 1}/${o.epochs} done`);
  }
  const vectors = new Float32Array(V * d);
  for (let w = 0; w < V; w++) {
    const sw = subs[w]!;
    for (let s = 0; s < sw.length; s++) {
      const base = sw[s]! * d;
      for (let j = 0; j < d; j++) vectors[w * d + j] = vectors[w * d + j]! + input[base + j]! / sw.length;
    }
  }
  return vectors;
}

/** First principal component (uncentred, as SIF's TruncatedSVD) of unit rows, by power iteration. */
function firstComponent(rows: readonly Float64Array[], d: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  let u = Float64Array.from({ length: d }, () => rng.normal());
  normalizeInPlace(u);
  for (let it = 0; it < 50; it++) {
    const next = new Float64Array(d);
    for (const r of rows) {
      let p = 0;
      for (let j = 0; j < d; j++) p += r[j]! * u[j]!;
      for (let j = 0; j < d; j++) next[j] = next[j]! + p * r[j]!;
    }
    normalizeInPlace(next);
    let delta = 0;
    for (let j = 0; j < d; j++) delta += Math.abs(next[j]! - u[j]!);
    u = next;
    if (delta < 1e-9) break;
  }
  return Float32Array.from(u);
}

/** Learns the embedder from `texts`. */
export function trainLearned(texts: readonly string[], o: LearnedOptions, hooks: LearnedHooks = {}): LearnedModel {
  if (texts.length === 0) throw new Error('no training texts');
  if (o.mix < 0 || o.mix > 1) throw new Error(`mix must be in [0, 1], got ${o.mix}`);
  const tokens = texts.map(lexicalTokens);
  const df = new Map<string, number>();
  const tf = new Map<string, number>();
  for (const doc of tokens) {
    for (const t of doc) tf.set(t, (tf.get(t) ?? 0) + 1);
    for (const t of new Set(doc)) df.set(t, (df.get(t) ?? 0) + 1);
  }
  // Most frequent first (ties by spelling), so the vocabulary does not depend on the text order.
  const vocab = [...df.entries()]
    .filter(([, n]) => n >= o.minCount)
    .sort((a, b) => tf.get(b[0])! - tf.get(a[0])! || (a[0] < b[0] ? -1 : 1))
    .map(([w]) => w);
  if (vocab.length === 0) throw new Error(`no token occurs in ${o.minCount} or more texts; lower minCount or give more texts`);
  const V = vocab.length;
  const rows = V + o.oovBuckets;
  const N = texts.length;
  hooks.log?.(`vocabulary ${V} tokens in ≥ ${o.minCount} of ${N} texts (${df.size - V} rarer ones share ${o.oovBuckets} hashed rows)`);

  // Lexical rows, scaled by the smoothed IDF (rare and unseen tokens get the IDF of a one-document
  // token). The tokens with the largest share of the documents' squared unit TF-IDF weight get a
  // dimension each, so the most influential terms are compared exactly; every other token gets a
  // fixed Gaussian vector over the remaining dims, seeded by its spelling. Random indexing adds
  // noise of order 1/√dims to every cosine, so taking the heavy terms out of it matters.
  const idf = (n: number) => 1 + Math.log((1 + N) / (1 + n));
  const index = new Map(vocab.map((w, i) => [w, i]));
  const exact = Math.min(o.exactDims, o.lexicalDim, V);
  const randomDims = o.lexicalDim - exact;
  const mass = new Float64Array(V);
  for (const doc of tokens) {
    const tfDoc = new Map<string, number>();
    for (const t of doc) tfDoc.set(t, (tfDoc.get(t) ?? 0) + 1);
    let norm = 0;
    const ws: [number, number][] = [];
    for (const [t, c] of tfDoc) {
      const w = (1 + Math.log(c)) * idf(df.get(t)!);
      norm += w * w;
      const i = index.get(t);
      if (i !== undefined) ws.push([i, w * w]);
    }
    for (const [i, w2] of ws) mass[i] = mass[i]! + w2 / norm;
  }
  const byMass = Array.from({ length: V }, (_, i) => i).sort((a, b) => mass[b]! - mass[a]! || a - b);
  const slot = new Int32Array(V).fill(-1);
  for (let k = 0; k < exact; k++) slot[byMass[k]!] = k;
  const lexical = new Float32Array(rows * o.lexicalDim);
  const fill = (row: number, key: string, scale: number) => {
    const at = row * o.lexicalDim;
    if (row < V && slot[row]! >= 0) {
      lexical[at + slot[row]!] = scale;
      return;
    }
    if (randomDims === 0) return;
    const rng = new Rng(fnv1a32(key) ^ o.seed);
    const s = scale / Math.sqrt(randomDims);
    for (let j = exact; j < o.lexicalDim; j++) lexical[at + j] = s * rng.normal();
  };
  vocab.forEach((w, i) => fill(i, w, idf(df.get(w)!)));
  for (let b = 0; b < o.oovBuckets; b++) fill(V + b, `\u0000oov${b}`, idf(1));
  let covered = 0;
  let all = 0;
  for (let i = 0; i < V; i++) {
    all += mass[i]!;
    if (slot[i]! >= 0) covered += mass[i]!;
  }
  hooks.log?.(`lexical part: ${exact} exact dims cover ${((100 * covered) / Math.max(all, 1e-12)).toFixed(1)} % of the vocabulary's TF-IDF mass, ${randomDims} random-indexing dims for the rest`);

  const semantic = new Float32Array(rows * o.semanticDim);
  const pc = new Float32Array(o.semanticDim);
  const model: LearnedModel = { vocab, oovBuckets: o.oovBuckets, lexicalDim: o.lexicalDim, semanticDim: o.semanticDim, mix: o.semanticDim > 0 ? o.mix : 0, lexical, semantic, pc };
  if (o.semanticDim > 0) {
    const counts = new Float64Array(V);
    const docs = tokens.map((doc) => {
      const ids: number[] = [];
      for (const t of doc) {
        const i = index.get(t);
        if (i !== undefined) {
          ids.push(i);
          counts[i] = counts[i]! + 1;
        }
      }
      return Int32Array.from(ids);
    });
    // Beyond the budget, skipgram sees a seeded sample of whole texts; SIF weights still use all counts.
    const rng = new Rng(o.seed ^ 0x5a3e);
    const order = rng.shuffle(docs.map((_, i) => i));
    const sample: Int32Array[] = [];
    let budget = o.maxTrainTokens;
    for (const i of order) {
      if (budget <= 0) break;
      sample.push(docs[i]!);
      budget -= docs[i]!.length;
    }
    const t0 = performance.now();
    const vectors = trainSkipgram(sample, counts, o, vocab, hooks);
    hooks.log?.(`skipgram ${o.semanticDim} dims on ${sample.length} of ${docs.length} texts, ${o.epochs} epoch(s) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    let total = 0;
    for (let i = 0; i < V; i++) total += counts[i]!;
    for (let i = 0; i < V; i++) {
      const w = o.sifA / (o.sifA + counts[i]! / total);
      for (let j = 0; j < o.semanticDim; j++) semantic[i * o.semanticDim + j] = w * vectors[i * o.semanticDim + j]!;
    }
    if (o.removePc) {
      const feat = new Featurizer(vocab, o.oovBuckets);
      const sums = texts.map((t) => {
        const s = new Float64Array(o.semanticDim);
        semanticSum(model, feat.features(t), s);
        normalizeInPlace(s);
        return s;
      });
      pc.set(firstComponent(sums, o.semanticDim, o.seed));
    }
  }
  return model;
}
