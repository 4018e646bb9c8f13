import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSession, ort, type Device, type ProviderChoice } from './session.js';

/**
 * The `forge-torch-lm` model artifact (written by train.torch) and its scoring over ONNX Runtime.
 * Documents are scored as [EOS] + ids + [EOS]: every id and the closing EOS is predicted, in windows
 * of at most `context` predictions whose context restarts at each window. train.py's `eval` mode
 * follows the same rule, so the two agree to float rounding.
 */
export const TORCH_LM_FORMAT = 'forge-torch-lm';
export const TORCH_LM_VERSION = 1;

export interface TorchLmArch {
  /** Tokenizer id space + 1: the extra id is EOS (also the document start). */
  vocabSize: number;
  eos: number;
  context: number;
  layers: number;
  dModel: number;
  heads: number;
  ffn: number;
}

export interface CurvePoint {
  stage: string;
  step: number;
  loss: number;
  tokens: number;
}

export interface TorchLmHeader {
  format: typeof TORCH_LM_FORMAT;
  version: number;
  arch: TorchLmArch;
  parameters: number;
  tokenizer: { file: string; sha256: string; name: string };
  /** One entry per training stage this checkpoint went through, oldest first. */
  stages: { name: string; steps: number; tokens: number; documents: number; completionOnly: boolean; finalLoss: number | null }[];
  files: Record<string, string>;
}

export function isTorchLm(dir: string): boolean {
  const f = join(dir, 'model.json');
  if (!existsSync(f)) return false;
  try {
    return (JSON.parse(readFileSync(f, 'utf8')) as { format?: unknown }).format === TORCH_LM_FORMAT;
  } catch {
    return false;
  }
}

export function readTorchLmHeader(dir: string): TorchLmHeader {
  const h = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as TorchLmHeader;
  if (h.format !== TORCH_LM_FORMAT) throw new Error(`model.json format is ${String(h.format)}, expected ${TORCH_LM_FORMAT}`);
  if (h.version !== TORCH_LM_VERSION) throw new Error(`${TORCH_LM_FORMAT} version ${h.version} is not supported (expected ${TORCH_LM_VERSION})`);
  return h;
}

export function readCurve(dir: string): CurvePoint[] {
  const f = join(dir, 'curve.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as CurvePoint[]) : [];
}

/** (start, length) of each scoring window over a document with `targets` predictions. */
export function scoringWindows(targets: number, context: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < targets; s += context) out.push([s, Math.min(context, targets - s)]);
  return out;
}

export interface DocumentScore {
  nll: number;
  predictions: number;
}

/**
 * Floats of log-probabilities one batch may produce (1 M floats = 4 MB). Small on purpose: each run
 * allocates a fresh output tensor, and at 128 MB every batch paid for new zeroed pages and cache
 * misses — measured on the neural example's MiniLM-vocabulary proxies, 4 MB batches cost 4-5×
 * less CPU for the same scores (bench/RESULTS.md, torch-proxy).
 */
const LOGITS_BUDGET = 1024 * 1024;

interface Window {
  doc: number;
  /** Inputs: the window's tokens; targets are the same positions shifted by one. */
  input: number[];
  target: number[];
}

/** An ONNX causal LM session that scores token documents in padded batches. */
export class OnnxCausalLm {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly arch: TorchLmArch,
    readonly device: Device,
  ) {}

  /** Exports since train.torch v1 also carry `logprobs` (log_softmax in the graph). */
  private get hasLogProbs(): boolean {
    return this.session.outputNames.includes('logprobs');
  }

  static async open(dir: string, arch: TorchLmArch, opts: { provider?: ProviderChoice; threads?: number; log?: (m: string, level?: 'info' | 'warn') => void } = {}): Promise<OnnxCausalLm> {
    const { session, device } = await createSession(join(dir, 'model.onnx'), opts);
    return new OnnxCausalLm(session, arch, device);
  }

  /**
   * Scores documents (token ids without EOS) and returns NLL in nats per document. Windows are
   * sorted by length and batched up to `batchTokens` padded tokens; right padding cannot change a
   * causal model's earlier positions, so padded positions are simply not read. The default batch
   * keeps the output tensor near 4 MB whatever the vocabulary.
   */
  async score(docs: readonly (readonly number[])[], batchTokens?: number): Promise<DocumentScore[]> {
    const { eos, context, vocabSize } = this.arch;
    const budget = batchTokens ?? Math.max(context, Math.floor(LOGITS_BUDGET / vocabSize));
    const windows: Window[] = [];
    docs.forEach((ids, doc) => {
      const seq = [eos, ...ids, eos];
      for (const [s, n] of scoringWindows(seq.length - 1, context)) windows.push({ doc, input: seq.slice(s, s + n), target: seq.slice(s + 1, s + n + 1) });
    });
    const order = windows.map((_, i) => i).sort((a, b) => (windows[b] as Window).input.length - (windows[a] as Window).input.length || a - b);
    const out: DocumentScore[] = docs.map(() => ({ nll: 0, predictions: 0 }));
    let i = 0;
    while (i < order.length) {
      const width = (windows[order[i] as number] as Window).input.length;
      const rows = Math.max(1, Math.floor(budget / width));
      const batch = order.slice(i, i + rows).map((k) => windows[k] as Window);
      i += batch.length;
      const ids = new BigInt64Array(batch.length * width);
      batch.forEach((w, r) => w.input.forEach((t, c) => (ids[r * width + c] = BigInt(t))));
      const feeds = { input_ids: new ort.Tensor('int64', ids, [batch.length, width]) };
      const result = await this.session.run(feeds, this.hasLogProbs ? ['logprobs'] : ['logits']);
      const logProbs = this.hasLogProbs ? ((result.logprobs as ort.Tensor).data as Float32Array) : undefined;
      const logits = logProbs ? undefined : ((result.logits as ort.Tensor).data as Float32Array);
      batch.forEach((w, r) => {
        let nll = 0;
        for (let c = 0; c < w.target.length; c++) {
          const base = (r * width + c) * vocabSize;
          const t = w.target[c] as number;
          nll -= logProbs ? (logProbs[base + t] as number) : logSoftmaxAt(logits as Float32Array, base, vocabSize, t);
        }
        const s = out[w.doc] as DocumentScore;
        s.nll += nll;
        s.predictions += w.target.length;
      });
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** log softmax(logits[base .. base+n))[target], in float64 like the PyTorch reference. */
export function logSoftmaxAt(logits: Float32Array, base: number, n: number, target: number): number {
  let max = -Infinity;
  for (let j = 0; j < n; j++) {
    const v = logits[base + j] as number;
    if (v > max) max = v;
  }
  let sum = 0;
  for (let j = 0; j < n; j++) sum += Math.exp((logits[base + j] as number) - max);
  return (logits[base + target] as number) - max - Math.log(sum);
}
