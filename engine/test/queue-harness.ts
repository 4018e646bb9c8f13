import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../engine.js';
import { checkRedis } from '../exec/queue/redis.js';
import { filterChainGraph, outputHashes, REPO } from './helpers.js';

/**
 * What the queue tests share: a pool of 12,000 JSONL documents, a fast graph and a slow one, private
 * redis-server processes on free loopback ports, `forge worker` and `forge run` child processes.
 * Every process started here is killed by `cleanup()`.
 */

export const CLI = join(REPO, 'bin/forge.cjs');
const REDIS = '/usr/bin/redis-server';
/** Small shards, so a 12,000-row node has several. */
export const CLI_ENV = { ...process.env, FORGE_SHARD_ROWS: '2000' };
export const POOL_ROWS = 12_000;

export const GRAPH = filterChainGraph(3, [
  ['keep', 'score > 0.4'],
  ['short', 'length(text) < 200'],
]);

/** A slow filter: the worker running it can be killed, or Redis stopped, while it runs. */
export const SLOW_GRAPH = filterChainGraph(3, [['keep', "score > 0.4 AND md5(repeat(text, 400)) <> ''"]]);

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class QueueLab {
  readonly dir = mkdtempSync(join(tmpdir(), 'forge-queue-'));
  private readonly children: ChildProcess[] = [];
  /** stderr of every worker started, in arrival order. */
  readonly workerLog: string[] = [];

  /** `env`: of every CLI and worker process (all must cut shards alike for hashes to match). */
  constructor(private readonly env: NodeJS.ProcessEnv = CLI_ENV) {}

  async writePool(): Promise<void> {
    const out = createWriteStream(join(this.dir, 'pool.jsonl'));
    for (let i = 0; i < POOL_ROWS; i++) out.write(`${JSON.stringify({ id: `d${i}`, text: `page ${i} `.repeat(1 + (i % 40)), score: ((i * 7919) % 1000) / 1000 })}\n`);
    await new Promise<void>((r) => out.end(r));
    writeFileSync(join(this.dir, 'g.forge.json'), JSON.stringify(GRAPH));
    writeFileSync(join(this.dir, 'slow.forge.json'), JSON.stringify(SLOW_GRAPH));
  }

  /** Starts a private redis-server (on `port`, or a free one) and waits until it answers. */
  async startRedis(extra: string[] = [], port?: number, password?: string): Promise<{ url: string; port: number; proc: ChildProcess }> {
    const p = port ?? (await freePort());
    const auth = password ? ['--requirepass', password] : [];
    const proc = spawn(REDIS, ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...auth, ...extra], { stdio: 'ignore' });
    this.children.push(proc);
    const url = password ? `redis://:${encodeURIComponent(password)}@127.0.0.1:${p}` : `redis://127.0.0.1:${p}`;
    for (let i = 0; ; i++) {
      try {
        await checkRedis(url);
        return { url, port: p, proc };
      } catch (err) {
        if ((err as Error).message.includes('maxmemory-policy')) return { url, port: p, proc };
        if (i > 200) throw err;
        await sleep(100);
      }
    }
  }

  startWorker(url: string, store: string, own: string[] = []): ChildProcess {
    const proc = spawn(process.execPath, [CLI, 'worker', '--queue', url, '--store', store], { stdio: ['ignore', 'ignore', 'pipe'], env: this.env });
    proc.stderr?.on('data', (d: Buffer) => {
      this.workerLog.push(d.toString());
      own.push(d.toString());
    });
    this.children.push(proc);
    return proc;
  }

  /** A workspace whose store folder exists before workers mount it (the coordinator creates it on first open). */
  async workspace(name: string): Promise<string> {
    const ws = join(this.dir, name);
    mkdirSync(join(ws, '.forge'), { recursive: true });
    const r = await this.cli(['runs', '-w', ws]);
    if (r.code !== 0) throw new Error(r.stderr);
    return ws;
  }

  /** Runs the CLI; `onSpawn` gets the process (to signal it). */
  cli(args: string[], onSpawn?: (p: ChildProcess) => void): Promise<CliResult> {
    return new Promise((resolve) => {
      const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: this.env });
      this.children.push(p);
      onSpawn?.(p);
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
  }

  /** Runs a graph locally (no queue) and returns its run id. */
  async localRun(graphFile: string, ws: string): Promise<string> {
    const r = await this.cli(['run', join(this.dir, graphFile), '-w', ws, '--json']);
    if (r.code !== 0) throw new Error(`local run failed: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { runId: string }).runId;
  }

  cleanup(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function hashesOf(ws: string, runId: string): Record<string, string> {
  const engine = Engine.open(ws);
  try {
    return outputHashes(engine, runId);
  } finally {
    engine.close();
  }
}

/** Polls `cond` every 100 ms; fails with `what` after `limit` polls (generous: tests run on a loaded 2-core machine). */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: () => string, limit = 3000): Promise<void> {
  for (let i = 0; !(await cond()); i++) {
    if (i > limit) throw new Error(what());
    await sleep(100);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A free loopback TCP port (for a private redis-server). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}
