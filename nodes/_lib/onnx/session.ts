import * as ort from 'onnxruntime-node';

/** Execution provider choice as users see it in a node's params. */
export type ProviderChoice = 'auto' | 'cpu' | 'webgpu' | 'cuda';
export type Device = 'cpu' | 'webgpu' | 'cuda';
export const PROVIDER_CHOICES = ['auto', 'cpu', 'webgpu', 'cuda'] as const;

// ONNX Runtime's own logger prints every failed GPU probe to stderr (missing CUDA libraries, no
// Vulkan adapter) before we can catch it; the exception carries the same text, which is reported
// once, in one line, as the fallback reason. Must be set before the first session is created.
ort.env.logLevel = 'fatal';

/** `auto` tries GPUs in this order, then CPU. */
const AUTO_ORDER: Device[] = ['cuda', 'webgpu', 'cpu'];

export interface SessionOptions {
  provider?: ProviderChoice;
  /** Intra-op threads for the CPU provider; 0 or undefined lets ONNX Runtime choose (one per core). */
  threads?: number;
  /** Where fallback reasons go (a node passes ctx.log). */
  log?: (message: string, level?: 'info' | 'warn') => void;
}

export interface OpenedSession {
  session: ort.InferenceSession;
  /** The provider that actually runs the model. */
  device: Device;
  /** One line per provider that was tried and failed, in order. */
  fallbacks: string[];
}

export class ProviderUnavailableError extends Error {
  constructor(
    readonly provider: Device,
    reason: string,
  ) {
    super(`execution provider "${provider}" is not available here: ${reason}`);
    this.name = 'ProviderUnavailableError';
  }
}

/** The gist of an ONNX Runtime error: first line, without source paths and C++ signatures. */
export function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  let line = (msg.split('\n').find((l) => l.trim()) ?? msg).trim();
  const gist = /(Failed to [^.]*(?:\.|$)[^]*)$/.exec(line);
  if (gist?.[1]) line = gist[1];
  line = line.replace(/\/onnxruntime_src\/\S+:\d+\s*/g, '').replace(/onnxruntime::\S+\(.*?\)(::<lambda\(\)>)?\s*/g, '');
  return line.trim().slice(0, 240);
}

async function open(model: string | Uint8Array, device: Device, threads: number | undefined): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [device],
    graphOptimizationLevel: 'all',
    // Fatal only: every ONNX Runtime error also surfaces as the exception we report (once, with context).
    logSeverityLevel: 4,
  };
  if (threads && threads > 0) {
    options.intraOpNumThreads = threads;
    options.interOpNumThreads = 1;
  }
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

/**
 * Opens an ONNX Runtime session on the chosen provider. An explicit provider that cannot start
 * throws ProviderUnavailableError (the user asked for it); `auto` tries CUDA, then WebGPU, then the
 * CPU, and logs why each GPU provider was skipped. Creating a WebGPU session on a machine without a
 * usable Vulkan device throws instead of falling back inside ONNX Runtime, hence one provider per try.
 */
export async function createSession(model: string | Uint8Array, opts: SessionOptions = {}): Promise<OpenedSession> {
  const choice = opts.provider ?? 'auto';
  const order: Device[] = choice === 'auto' ? AUTO_ORDER : [choice];
  const fallbacks: string[] = [];
  for (const device of order) {
    try {
      const session = await open(model, device, opts.threads);
      if (fallbacks.length > 0) opts.log?.(`execution provider: ${device} (fell back: ${fallbacks.join('; ')})`, 'warn');
      else opts.log?.(`execution provider: ${device}`);
      return { session, device, fallbacks };
    } catch (err) {
      const reason = firstLine(err);
      if (choice !== 'auto' || device === 'cpu') {
        // A model that does not load on the CPU is a model problem, not a provider problem.
        if (device === 'cpu') throw err;
        throw new ProviderUnavailableError(device, reason);
      }
      fallbacks.push(`${device}: ${reason}`);
    }
  }
  throw new Error('unreachable: the CPU provider is always last');
}

export { ort };
