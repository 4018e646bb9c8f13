import { Worker } from 'node:worker_threads';
import { Rng } from '../rng.js';
import { buildDictionary, Dictionary, LABEL_PREFIX, tokenize, type Preprocess } from './dictionary.js';
import { localCounter, trainLoop, type KernelData, type KernelResult, type TrainLoss } from './kernel.js';
import { dense } from './matrix.js';
import { FastTextModel, HsTree, type FastTextArgs } from './model.js';
import { MAX_BYTES, PAGE, sharedMemory, simdModule } from './simd.js';
import type { TrainWorkerData, TrainWorkerMessage } from './train-worker.js';

export interface TrainOptions {
  dim: number;
  epoch: number;
  lr: number;
  wordNgrams: number;
  bucket: number;
  minn: number;
  maxn: number;
  minCount: number;
  loss: TrainLoss;
  /** 1 = deterministic single-threaded SGD; more = Hogwild! over worker threads (not reproducible). */
  threads: number;
  seed: number;
  preprocess: Preprocess;
  lrUpdateRate?: number;
  /**
   * Keep only the hash buckets that occur in the training data (through fastText's pruning index),
   * instead of shipping every untouched, randomly initialised bucket row. Unseen n-grams are then
   * ignored at prediction time rather than adding random noise; the model is much smaller, but it
   * cannot be saved as a fastText `.bin` (the CLI only accepts pruned dictionaries in `.ftz`). Off by default.
   */
  compact?: boolean;
  /** Use the WebAssembly SIMD kernel when available (default); false forces the JavaScript one. */
  simd?: boolean;
}

export interface TrainDoc {
  text: string;
  /** Label name without the `__label__` prefix. */
  label: string;
}

export interface TrainStats {
  examples: number;
  tokens: number;
  seconds: number;
  wordsPerSecondPerThread: number;
  avgLoss: number;
  threads: number;
  vocabulary: number;
  buckets: number;
}

export interface TrainHooks {
  progress?(done: number, total: number): void;
  log?(message: string): void;
  signal?: AbortSignal;
}

interface Featurized {
  dict: Dictionary;
  ids: Int32Array;
  offsets: Int32Array;
  labels: Int32Array;
  ntok: Int32Array;
  rows: number;
  ntokens: number;
}

function featurizeCorpus(docs: readonly TrainDoc[], opts: TrainOptions, order: readonly number[]): Featurized {
  const bucket = opts.wordNgrams <= 1 && opts.maxn <= 0 ? 0 : opts.bucket;
  const featureArgs = { minn: opts.minn, maxn: opts.maxn, wordNgrams: opts.wordNgrams, bucket, label: LABEL_PREFIX };
  const tokens = docs.map((d) => tokenize(d.text, opts.preprocess));
  let dict = buildDictionary(
    docs.map((d, i) => ({ tokens: tokens[i]!, label: LABEL_PREFIX + d.label })),
    { ...featureArgs, minCount: opts.minCount },
  );
  let feats = order.map((i) => dict.featurize(tokens[i]!));
  if (opts.compact === true && bucket > 0) {
    const used = new Set<number>();
    for (const f of feats) for (const r of f) if (r >= dict.nwords) used.add(r - dict.nwords);
    const sorted = [...used].sort((a, b) => a - b);
    const pruneIdx = new Map<number, number>(sorted.map((b, i) => [b, i]));
    dict = new Dictionary({ ...dict.data(), pruneIdx }, featureArgs);
    feats = order.map((i) => dict.featurize(tokens[i]!));
  }
  let total = 0;
  for (const f of feats) total += f.length;
  if (total > 2 ** 31 - 1) throw new Error('training corpus too large for one model (more than 2^31 features)');
  const ids = new Int32Array(total);
  const offsets = new Int32Array(order.length + 1);
  const labels = new Int32Array(order.length);
  const ntok = new Int32Array(order.length);
  let o = 0;
  order.forEach((docIndex, line) => {
    const f = feats[line]!;
    ids.set(f, o);
    o += f.length;
    offsets[line + 1] = o;
    labels[line] = dict.getId(LABEL_PREFIX + docs[docIndex]!.label) - dict.nwords;
    ntok[line] = tokens[docIndex]!.length + 2;
  });
  return { dict, ids, offsets, labels, ntok, rows: dict.inputRows, ntokens: dict.ntokens };
}

/** Lays out input matrix, output matrix, feature ids and per-thread scratch in one shared wasm memory. */
function simdLayout(rows: number, nlabels: number, dim: number, ids: Int32Array, threads: number) {
  const module = simdModule();
  if (!module) return undefined;
  const align = (n: number) => Math.ceil(n / 16) * 16;
  const scratchStride = align(dim * 4);
  const input = 0;
  const output = align(input + rows * dim * 4);
  const idsAt = align(output + nlabels * dim * 4);
  const scratch = align(idsAt + ids.length * 4);
  const total = scratch + threads * 2 * scratchStride;
  if (total > MAX_BYTES) return undefined;
  const pages = Math.max(1, Math.ceil(total / PAGE));
  const memory = sharedMemory(pages);
  const idsView = new Int32Array(memory.buffer, idsAt, ids.length);
  idsView.set(ids);
  return {
    layout: { module, memory, input, output, ids: idsAt, scratch, scratchStride },
    inputView: new Float32Array(memory.buffer, input, rows * dim),
    outputView: new Float32Array(memory.buffer, output, nlabels * dim),
    idsView,
  };
}

function shared<T extends Int32Array | Uint8Array>(a: T, threads: number): T {
  if (threads <= 1) return a;
  const Ctor = a.constructor as new (b: SharedArrayBuffer) => T;
  const out = new Ctor(new SharedArrayBuffer(a.byteLength));
  out.set(a as never);
  return out;
}

/**
 * fastText supervised training. Labels are ordered by frequency (fastText's dictionary order); the
 * corpus is shuffled once with the seed (fastText reads its file in order, so users shuffle it; the
 * datasets here arrive grouped by class). Input rows start uniform in ±1/dim, output rows at zero.
 */
export async function trainFastText(docs: readonly TrainDoc[], opts: TrainOptions, hooks: TrainHooks = {}): Promise<{ model: FastTextModel; stats: TrainStats }> {
  if (docs.length === 0) throw new Error('no training examples');
  const rng = new Rng(opts.seed);
  const order = rng.shuffle(docs.map((_, i) => i));
  const corpus = featurizeCorpus(docs, opts, order);
  const { dict } = corpus;
  const nlabels = dict.nlabels;
  if (nlabels < 2) throw new Error(`need at least two labels to train a classifier, got ${nlabels}`);
  const threads = Math.max(1, Math.floor(opts.threads));
  const simd = opts.simd === false ? undefined : simdLayout(corpus.rows, nlabels, opts.dim, corpus.ids, threads);
  // Weights live in shared memory when Hogwild! threads update them in place (or in the SIMD module's memory).
  const alloc = (n: number) => (threads > 1 ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float32Array(n));
  const input = rng.fill(simd ? simd.inputView : alloc(corpus.rows * opts.dim), -1 / opts.dim, 1 / opts.dim);
  const output = simd ? simd.outputView : alloc(nlabels * opts.dim);
  const k: KernelData = {
    dim: opts.dim,
    nlabels,
    input,
    output,
    ids: simd ? simd.idsView : shared(corpus.ids, threads),
    offsets: shared(corpus.offsets, threads),
    labels: shared(corpus.labels, threads),
    ntok: shared(corpus.ntok, threads),
    lr: opts.lr,
    totalTokens: opts.epoch * corpus.ntokens,
    loss: opts.loss,
    lrUpdateRate: opts.lrUpdateRate ?? 100,
    simd: simd?.layout,
  };
  if (opts.loss === 'hs') {
    const tree = new HsTree(nlabels, dict.labelCounts());
    const offsets = new Int32Array(nlabels + 1);
    tree.paths.forEach((p, i) => (offsets[i + 1] = offsets[i]! + p.length));
    k.hsOffsets = offsets;
    k.hsPaths = Int32Array.from(tree.paths.flat());
    k.hsCodes = Uint8Array.from(tree.codes.flat().map((c) => (c ? 1 : 0)));
  }
  hooks.log?.(
    `training: ${docs.length} examples, ${dict.nwords} words, ${corpus.rows - dict.nwords} buckets in use, ${nlabels} labels, ${corpus.ntokens} tokens/epoch, ${threads} thread(s), ${simd ? 'WebAssembly SIMD' : 'JavaScript'} kernel`,
  );

  let t0 = performance.now();
  let results: KernelResult[];
  if (threads === 1) {
    const counter = localCounter();
    results = [
      trainLoop(k, 0, counter, () => {
        hooks.progress?.(Math.min(counter.get(), k.totalTokens), k.totalTokens);
        return hooks.signal?.aborted ?? false;
      }),
    ];
  } else {
    results = await runHogwild(k, threads, hooks, () => (t0 = performance.now()));
  }
  if (hooks.signal?.aborted) throw new Error('training cancelled');
  const seconds = (performance.now() - t0) / 1000;
  hooks.progress?.(k.totalTokens, k.totalTokens);

  const args: FastTextArgs = {
    dim: opts.dim,
    ws: 5,
    epoch: opts.epoch,
    minCount: opts.minCount,
    neg: 5,
    wordNgrams: opts.wordNgrams,
    loss: opts.loss,
    model: 'sup',
    bucket: dict.args.bucket,
    minn: opts.minn,
    maxn: opts.maxn,
    lrUpdateRate: opts.lrUpdateRate ?? 100,
    t: 1e-4,
    label: LABEL_PREFIX,
  };
  const model = new FastTextModel(args, dict, dense(corpus.rows, opts.dim, input), dense(nlabels, opts.dim, output), opts.preprocess);
  const examples = results.reduce((s, r) => s + r.examples, 0);
  const tokens = results.reduce((s, r) => s + r.tokens, 0);
  const lossSum = results.reduce((s, r) => s + r.lossSum, 0);
  return {
    model,
    stats: {
      examples,
      tokens,
      seconds,
      wordsPerSecondPerThread: tokens / Math.max(seconds, 1e-9) / threads,
      avgLoss: examples > 0 ? lossSum / examples : NaN,
      threads,
      vocabulary: dict.nwords,
      buckets: corpus.rows - dict.nwords,
    },
  };
}

async function runHogwild(k: KernelData, threads: number, hooks: TrainHooks, started: () => void): Promise<KernelResult[]> {
  const counter = new BigInt64Array(new SharedArrayBuffer(8));
  const flags = new Int32Array(new SharedArrayBuffer(8));
  const nlines = k.labels.length;
  const workers: Worker[] = [];
  const onAbort = () => Atomics.store(flags, 1, 1);
  hooks.signal?.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  let ready = 0;
  try {
    return await Promise.all(
      Array.from({ length: threads }, (_, t) => {
        const data: TrainWorkerData = { k, start: Math.floor((t * nlines) / threads), counter, flags, thread: t };
        const w = new Worker(new URL('./train-worker.mjs', import.meta.url), { workerData: data });
        workers.push(w);
        return new Promise<KernelResult>((resolve, reject) => {
          w.on('message', (m: TrainWorkerMessage) => {
            if (m.type === 'done') resolve(m.result);
            else if (++ready === threads) {
              started();
              Atomics.store(flags, 0, 1);
              Atomics.notify(flags, 0);
              timer = setInterval(() => hooks.progress?.(Math.min(Number(Atomics.load(counter, 0)), k.totalTokens), k.totalTokens), 200);
            }
          });
          w.once('error', reject);
          w.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`training thread ${t} exited with code ${code}`))));
        });
      }),
    );
  } finally {
    clearInterval(timer);
    hooks.signal?.removeEventListener('abort', onAbort);
    Atomics.store(flags, 1, 1);
    Atomics.store(flags, 0, 1);
    Atomics.notify(flags, 0);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
