import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { NodeError } from '../../../engine/sdk/node-error.js';

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

/** What `auto` needs to know about the machine before trying a provider; injectable for tests. */
export interface ProviderProbe {
  platform: NodeJS.Platform;
  /** Whether the Vulkan loader (libvulkan.so.1) can be loaded; only asked on Linux. */
  vulkanLoader: () => boolean;
}

/** One provider `auto` will try, or leave out without trying (`skip` says why). */
export interface AutoStep {
  device: Device;
  skip?: string;
}

export const VULKAN_LOADER = 'libvulkan.so.1';

/**
 * The providers `auto` goes through, in order. On Linux, ONNX Runtime's WebGPU runs on Dawn's Vulkan
 * backend; without the Vulkan loader, Dawn writes "Couldn't load Vulkan" to stderr from native code
 * (past `ort.env.logLevel`) before the session fails anyway, so `auto` does not try it there.
 */
export function autoPlan(probe: ProviderProbe): AutoStep[] {
  return AUTO_ORDER.map((device) => (device === 'webgpu' && noVulkanLoader(probe) ? { device, skip: `not tried: no Vulkan loader (${VULKAN_LOADER}) on this machine` } : { device }));
}

function noVulkanLoader(probe: ProviderProbe): boolean {
  return probe.platform === 'linux' && !probe.vulkanLoader();
}

const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib64', '/lib64', '/usr/lib', '/lib', '/usr/local/lib'];

/**
 * Whether `file` is in one of `dirs` or in the dynamic linker's cache (`ldconfig -p` output, when
 * there is one): the places `dlopen` looks, short of rpaths that do not apply to a system loader.
 */
export function findLibrary(file: string, dirs: readonly string[], ldconfigCache: () => string | undefined, exists: (path: string) => boolean = existsSync): boolean {
  if (dirs.some((d) => exists(join(d, file)))) return true;
  const cache = ldconfigCache();
  return cache !== undefined && cache.split('\n').some((line) => line.trim().startsWith(`${file} `));
}

function ldconfigCache(): string | undefined {
  for (const cmd of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    try {
      return execFileSync(cmd, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    } catch {
      // Not at this path (or not runnable): try the next.
    }
  }
  return undefined;
}

let vulkanLoaderFound: boolean | undefined;

/** The machine as it is; the Vulkan lookup runs once per process (per worker thread). */
export const machineProbe: ProviderProbe = {
  platform: process.platform,
  vulkanLoader: () => {
    vulkanLoaderFound ??= findLibrary(VULKAN_LOADER, [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LIB_DIRS], ldconfigCache);
    return vulkanLoaderFound;
  },
};

export interface SessionOptions {
  provider?: ProviderChoice;
  /** Intra-op threads for the CPU provider; 0 or undefined lets ONNX Runtime choose (one per core). */
  threads?: number;
  /** Where fallback reasons go (a node passes ctx.log). */
  log?: (message: string, level?: 'info' | 'warn') => void;
  /** Machine facts for `auto`; tests inject their own. */
  probe?: ProviderProbe;
}

export interface OpenedSession {
  session: ort.InferenceSession;
  /** The provider that actually runs the model. */
  device: Device;
  /** One line per provider that was tried and failed, in order. */
  fallbacks: string[];
}

/**
 * The user asked for a provider this machine lacks: a NodeError on `params.provider` (name kept
 * "NodeError", so it crosses worker threads and queue workers as one), for every node that opens a
 * session, not only those that wrap it.
 */
export class ProviderUnavailableError extends NodeError {
  constructor(
    readonly provider: Device,
    reason: string,
  ) {
    super(`execution provider "${provider}" is not available here: ${reason}. Use provider "auto" to fall back to the CPU.`, { field: 'params.provider' });
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
 * throws ProviderUnavailableError (the user asked for it), and is tried even where `auto` would
 * skip it; `auto` follows `autoPlan` (CUDA, WebGPU, CPU) and logs why each GPU provider was skipped.
 * Creating a WebGPU session on a machine without a usable Vulkan device throws instead of falling
 * back inside ONNX Runtime, hence one provider per try.
 */
export async function createSession(model: string | Uint8Array, opts: SessionOptions = {}): Promise<OpenedSession> {
  const choice = opts.provider ?? 'auto';
  const steps: AutoStep[] = choice === 'auto' ? autoPlan(opts.probe ?? machineProbe) : [{ device: choice }];
  const fallbacks: string[] = [];
  for (const { device, skip } of steps) {
    if (skip !== undefined) {
      fallbacks.push(`${device}: ${skip}`);
      continue;
    }
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
        // Dawn's own reason ("No supported adapters") does not say that the loader is what is missing.
        const hint = device === 'webgpu' && noVulkanLoader(opts.probe ?? machineProbe) ? ` (no Vulkan loader ${VULKAN_LOADER} on this machine)` : '';
        throw new ProviderUnavailableError(device, `${reason}${hint}`);
      }
      fallbacks.push(`${device}: ${reason}`);
    }
  }
  throw new Error('unreachable: the CPU provider is always last');
}

export { ort };
