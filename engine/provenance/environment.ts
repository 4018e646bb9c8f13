import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, cpus, platform, release, totalmem, availableParallelism, type } from 'node:os';
import type { NodeRegistry } from '../registry.js';
import { ENGINE_VERSION } from '../version.js';
import type { EnvironmentInfo } from './events.js';

const require = createRequire(import.meta.url);
const LIBRARIES = ['@duckdb/node-api', 'better-sqlite3', 'piscina', 'zod', 'onnxruntime-node'];

let gpuCache: string | null | undefined;

/** First GPU name, if nvidia-smi answers quickly; null on machines without one. */
function detectGpu(): string | null {
  if (gpuCache !== undefined) return gpuCache;
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name,driver_version', '--format=csv,noheader'], { timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] });
    gpuCache = out.toString().trim().split('\n')[0] || null;
  } catch {
    gpuCache = null;
  }
  return gpuCache;
}

function libraryVersion(name: string): string | null {
  try {
    const pkgPath = require.resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

/**
 * libuv's thread pool as the process started it: UV_THREADPOOL_SIZE (bin/forge.cjs sets it to the
 * cores + 4), else libuv's 4. Unknown when an ES module was preloaded (`node --import`): loading it
 * starts the pool before bin/forge.cjs runs, so the variable may have come too late.
 */
function threadPoolSize(): number | undefined {
  if (process.execArgv.some((a) => /^--(import|loader|experimental-loader)\b/.test(a))) return undefined;
  return Number(process.env.UV_THREADPOOL_SIZE) || 4;
}

export function captureEnvironment(registry: NodeRegistry): EnvironmentInfo {
  const libraries: Record<string, string> = {};
  for (const lib of LIBRARIES) {
    const v = libraryVersion(lib);
    if (v) libraries[lib] = v;
  }
  return {
    engineVersion: ENGINE_VERSION,
    node: process.version,
    platform: platform(),
    arch: arch(),
    os: `${type()} ${release()}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    threadPool: threadPoolSize(),
    memoryBytes: totalmem(),
    gpu: detectGpu(),
    libraries,
    nodeTypes: Object.fromEntries(registry.list().map((t) => [t.type, t.version])),
  };
}
