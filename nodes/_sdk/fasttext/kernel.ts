import { tableSigmoid } from './model.js';
import { instantiate, type WasmMemory, type WasmModule } from './simd.js';

/**
 * The SGD inner loop of fastText's supervised training (`FastText::trainThread` +
 * `Model::update` + the losses' `forward`), over a pre-featurised corpus. The same function runs
 * single-threaded (deterministic) and in Hogwild! worker threads, where `input`/`output` are views
 * of SharedArrayBuffers updated without locks and `counter` is the shared token count that drives
 * the linearly decaying learning rate.
 */

export type TrainLoss = 'softmax' | 'hs' | 'ova';

/** Everything the loop needs, as typed arrays (shareable) and numbers (cloneable). */
export interface KernelData {
  dim: number;
  nlabels: number;
  input: Float32Array;
  output: Float32Array;
  /** Flat input-row ids of all lines; line i is ids[offsets[i]..offsets[i+1]). */
  ids: Int32Array;
  offsets: Int32Array;
  /** Target label per line. */
  labels: Int32Array;
  /** fastText's token count per line (words + EOS + label), which paces the learning rate. */
  ntok: Int32Array;
  lr: number;
  /** epoch × tokens per epoch: training stops when the shared count reaches it. */
  totalTokens: number;
  loss: TrainLoss;
  lrUpdateRate: number;
  /** Hierarchical softmax: flattened paths (internal node rows) and codes per label. */
  hsPaths?: Int32Array;
  hsCodes?: Uint8Array;
  hsOffsets?: Int32Array;
  /**
   * When set, `input`, `output` and `ids` are views into this (shared) WebAssembly memory and the
   * vector loops run in the SIMD module; offsets are in bytes. `scratch` holds per-thread
   * hidden/grad vectors of `scratchStride` bytes each.
   */
  simd?: { module: WasmModule; memory: WasmMemory; input: number; output: number; ids: number; scratch: number; scratchStride: number };
}

export interface KernelResult {
  /** Sum of per-example losses, and the number of examples updated. */
  lossSum: number;
  examples: number;
  tokens: number;
}

/** Shared token counter (a BigInt64Array over a SharedArrayBuffer), or a plain local one. */
export interface TokenCounter {
  get(): number;
  add(n: number): void;
}

export function localCounter(): TokenCounter {
  let v = 0;
  return {
    get: () => v,
    add: (n) => {
      v += n;
    },
  };
}

export function sharedCounter(cell: BigInt64Array): TokenCounter {
  return {
    get: () => Number(Atomics.load(cell, 0)),
    add: (n) => {
      Atomics.add(cell, 0, BigInt(n));
    },
  };
}

/** out[i] = exp(out[i] - max) for the first n scores; returns their sum (softmax's normaliser). */
function expInPlace(out: Float64Array, n: number, max: number): number {
  let z = 0;
  for (let i = 0; i < n; i++) {
    const v = Math.exp(out[i]! - max);
    out[i] = v;
    z += v;
  }
  return z;
}

function binaryLogistic(k: KernelData, row: number, positive: boolean, lr: number, hidden: Float32Array, grad: Float32Array): number {
  const { dim, output } = k;
  const o = row * dim;
  let d = 0;
  for (let j = 0; j < dim; j++) d += output[o + j]! * hidden[j]!;
  const score = tableSigmoid(d);
  const alpha = lr * ((positive ? 1 : 0) - score);
  for (let j = 0; j < dim; j++) {
    grad[j] = grad[j]! + alpha * output[o + j]!;
    output[o + j] = output[o + j]! + alpha * hidden[j]!;
  }
  return positive ? -Math.log(score + 1e-5) : -Math.log(1 - score + 1e-5);
}

/**
 * fastText's training schedule, shared by both loops: from line `start`, wrapping around the corpus,
 * until the shared counter reaches totalTokens; the learning rate decays linearly with the tokens
 * done; every lrUpdateRate local tokens are published to the counter (so Hogwild! threads see each
 * other's progress). `example(line, s, n, lr)` trains on a line whose features are ids[s .. s + n),
 * n > 0, adding its loss to `tally.lossSum` (in the same order as a local sum would).
 */
function sgdSchedule(
  k: KernelData,
  start: number,
  counter: TokenCounter,
  shouldStop: (() => boolean) | undefined,
  tally: { lossSum: number },
  example: (line: number, s: number, n: number, lr: number) => void,
): KernelResult {
  const { offsets, labels, ntok, lr: lr0, totalTokens, lrUpdateRate } = k;
  const nlines = labels.length;
  let line = start % nlines;
  let local = 0;
  let examples = 0;
  let tokens = 0;
  let checks = 0;
  for (;;) {
    const done = counter.get();
    if (done >= totalTokens) break;
    if (shouldStop && (++checks & 1023) === 0 && shouldStop()) break;
    const lr = lr0 * (1 - done / totalTokens);
    local += ntok[line]!;
    tokens += ntok[line]!;
    const s = offsets[line]!;
    const n = offsets[line + 1]! - s;
    if (n > 0) {
      example(line, s, n, lr);
      examples++;
    }
    line++;
    if (line === nlines) line = 0;
    if (local > lrUpdateRate) {
      counter.add(local);
      local = 0;
    }
  }
  return { lossSum: tally.lossSum, examples, tokens };
}

/** Runs SGD from line `start` (wrapping around the corpus) until the counter reaches totalTokens. */
export function trainLoop(k: KernelData, start: number, counter: TokenCounter, shouldStop?: () => boolean, thread = 0): KernelResult {
  if (k.simd) return trainLoopSimd(k, start, counter, shouldStop, thread);
  const { dim, nlabels, input, output, ids, labels, loss } = k;
  const hidden = new Float32Array(dim);
  const grad = new Float32Array(dim);
  const out = new Float64Array(nlabels);
  const tally = { lossSum: 0 };
  return sgdSchedule(k, start, counter, shouldStop, tally, (line, s, n, lr) => {
    const e = s + n;
    hidden.fill(0);
    for (let p = s; p < e; p++) {
      const r = ids[p]! * dim;
      for (let j = 0; j < dim; j++) hidden[j] = hidden[j]! + input[r + j]!;
    }
    const inv = Math.fround(1 / n);
    for (let j = 0; j < dim; j++) hidden[j] = hidden[j]! * inv;
    grad.fill(0);
    const target = labels[line]!;
    if (loss === 'softmax') {
      let max = -Infinity;
      for (let i = 0; i < nlabels; i++) {
        const o = i * dim;
        let d = 0;
        for (let j = 0; j < dim; j++) d += output[o + j]! * hidden[j]!;
        out[i] = d;
        if (d > max) max = d;
      }
      const z = expInPlace(out, nlabels, max);
      for (let i = 0; i < nlabels; i++) {
        const p = out[i]! / z;
        const alpha = lr * ((i === target ? 1 : 0) - p);
        const o = i * dim;
        for (let j = 0; j < dim; j++) {
          grad[j] = grad[j]! + alpha * output[o + j]!;
          output[o + j] = output[o + j]! + alpha * hidden[j]!;
        }
        if (i === target) tally.lossSum += -Math.log(p + 1e-5);
      }
    } else if (loss === 'hs') {
      const from = k.hsOffsets![target]!;
      const to = k.hsOffsets![target + 1]!;
      for (let q = from; q < to; q++) tally.lossSum += binaryLogistic(k, k.hsPaths![q]!, k.hsCodes![q] === 1, lr, hidden, grad);
    } else {
      for (let i = 0; i < nlabels; i++) tally.lossSum += binaryLogistic(k, i, i === target, lr, hidden, grad);
    }
    for (let j = 0; j < dim; j++) grad[j] = grad[j]! * inv;
    for (let p = s; p < e; p++) {
      const r = ids[p]! * dim;
      for (let j = 0; j < dim; j++) input[r + j] = input[r + j]! + grad[j]!;
    }
  });
}

/** The same loop with the vector work in WebAssembly SIMD (see simd.ts). */
function trainLoopSimd(k: KernelData, start: number, counter: TokenCounter, shouldStop: (() => boolean) | undefined, thread: number): KernelResult {
  const { dim, nlabels, labels, loss } = k;
  const simd = k.simd!;
  const w = instantiate(simd.module, simd.memory);
  const hiddenPtr = simd.scratch + thread * 2 * simd.scratchStride;
  const gradPtr = hiddenPtr + simd.scratchStride;
  const grad = new Float32Array(simd.memory.buffer, gradPtr, dim);
  const rowBytes = dim * 4;
  const out = new Float64Array(nlabels);
  const tally = { lossSum: 0 };
  const logistic = (row: number, positive: boolean, lr: number): number => {
    const score = tableSigmoid(w.dot(simd.output + row * rowBytes, hiddenPtr, dim));
    w.axpy_pair(simd.output + row * rowBytes, gradPtr, hiddenPtr, dim, lr * ((positive ? 1 : 0) - score));
    return positive ? -Math.log(score + 1e-5) : -Math.log(1 - score + 1e-5);
  };
  return sgdSchedule(k, start, counter, shouldStop, tally, (line, s, n, lr) => {
    const inv = Math.fround(1 / n);
    const idsPtr = simd.ids + s * 4;
    w.gather_mean(idsPtr, n, simd.input, dim, hiddenPtr, inv);
    grad.fill(0);
    const target = labels[line]!;
    if (loss === 'softmax') {
      let max = -Infinity;
      for (let i = 0; i < nlabels; i++) {
        const d = w.dot(simd.output + i * rowBytes, hiddenPtr, dim);
        out[i] = d;
        if (d > max) max = d;
      }
      const z = expInPlace(out, nlabels, max);
      for (let i = 0; i < nlabels; i++) {
        const p = out[i]! / z;
        w.axpy_pair(simd.output + i * rowBytes, gradPtr, hiddenPtr, dim, lr * ((i === target ? 1 : 0) - p));
        if (i === target) tally.lossSum += -Math.log(p + 1e-5);
      }
    } else if (loss === 'hs') {
      for (let q = k.hsOffsets![target]!; q < k.hsOffsets![target + 1]!; q++) tally.lossSum += logistic(k.hsPaths![q]!, k.hsCodes![q] === 1, lr);
    } else {
      for (let i = 0; i < nlabels; i++) tally.lossSum += logistic(i, i === target, lr);
    }
    w.scatter_add(idsPtr, n, simd.input, dim, gradPtr, inv);
  });
}
