import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../engine.js';
import { outputHashes, REPO } from '../../test/helpers.js';
import { checkRedis } from './redis.js';
import { listWorkers } from './queue-executor.js';

const CLI = join(REPO, 'bin/forge.mjs');
const REDIS = '/usr/bin/redis-server';
const env = { ...process.env, FORGE_SHARD_ROWS: '2000' };

const graph = {
  format: 'forge-graph',
  version: 2,
  seed: 3,
  nodes: [
    { id: 'load', type: 'source.jsonl', params: { path: 'pool.jsonl', idField: 'id' } },
    { id: 'keep', type: 'transform.filter', params: { where: 'score > 0.4' } },
    { id: 'short', type: 'transform.filter', params: { where: 'length(text) < 200' } },
  ],
  edges: [
    { from: { node: 'load', port: 'out' }, to: { node: 'keep', port: 'in' } },
    { from: { node: 'keep', port: 'out' }, to: { node: 'short', port: 'in' } },
  ],
};

let dir: string;
const children: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts a private redis-server on a free loopback port and waits until it answers. */
async function startRedis(extra: string[] = []): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra], { stdio: 'ignore' });
  children.push(proc);
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await checkRedis(url);
      return { url, proc };
    } catch (err) {
      if ((err as Error).message.includes('maxmemory-policy')) return { url, proc };
      if (i > 200) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const workerLog: string[] = [];

function startWorker(url: string, store: string, own: string[] = []): ChildProcess {
  const proc = spawn(process.execPath, [CLI, 'worker', '--queue', url, '--store', store], { stdio: ['ignore', 'ignore', 'pipe'], env });
  proc.stderr?.on('data', (d: Buffer) => {
    workerLog.push(d.toString());
    own.push(d.toString());
  });
  children.push(proc);
  return proc;
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'forge-queue-'));
  const out = createWriteStream(join(dir, 'pool.jsonl'));
  for (let i = 0; i < 12_000; i++) out.write(`${JSON.stringify({ id: `d${i}`, text: `page ${i} `.repeat(1 + (i % 40)), score: ((i * 7919) % 1000) / 1000 })}\n`);
  await new Promise<void>((r) => out.end(r));
  writeFileSync(join(dir, 'g.forge.json'), JSON.stringify(graph));
  // A slow filter: the worker running it can be killed mid-unit.
  const slow = { ...graph, nodes: [graph.nodes[0], { id: 'keep', type: 'transform.filter', params: { where: "score > 0.4 AND md5(repeat(text, 400)) <> ''" } }], edges: [graph.edges[0]] };
  writeFileSync(join(dir, 'slow.forge.json'), JSON.stringify(slow));
});

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function hashesOf(ws: string, runId: string): Record<string, string> {
  const engine = Engine.open(ws);
  try {
    return outputHashes(engine, runId);
  } finally {
    engine.close();
  }
}

describe('distributed runs on BullMQ', () => {
  it('refuses a Redis whose maxmemory-policy may evict jobs', async () => {
    const { url } = await startRedis(['--maxmemory-policy', 'allkeys-lru']);
    await expect(checkRedis(url)).rejects.toThrow(/maxmemory-policy allkeys-lru.*noeviction/);
  });

  it('two forge workers give the same artifact hashes as a local run, and show up as connected workers', async () => {
    const local = await cli(['run', join(dir, 'g.forge.json'), '-w', join(dir, 'ws-local'), '--json']);
    expect(local.code, local.stderr).toBe(0);
    const localRun = (JSON.parse(local.stdout) as { runId: string }).runId;

    const { url } = await startRedis();
    const ws = join(dir, 'ws-queue');
    // The coordinator creates the store; workers on "other machines" reach it as a shared folder.
    mkdirSync(join(ws, '.forge'), { recursive: true });
    const first = await cli(['runs', '-w', ws]);
    expect(first.code, first.stderr).toBe(0);
    startWorker(url, join(ws, '.forge'));
    startWorker(url, join(ws, '.forge'));
    for (let i = 0; (await listWorkers(url)).length < 2; i++) {
      if (i > 600) throw new Error('workers did not connect');
      await new Promise((r) => setTimeout(r, 100));
    }
    const workers = await listWorkers(url);
    expect(workers.map((w) => w.store)).toEqual([join(ws, '.forge'), join(ws, '.forge')]);

    const queued = await cli(['run', join(dir, 'g.forge.json'), '-w', ws, '--json', '--queue', url]);
    expect(queued.code, queued.stderr).toBe(0);
    const queuedRun = (JSON.parse(queued.stdout) as { runId: string }).runId;
    const a = hashesOf(join(dir, 'ws-local'), localRun);
    const b = hashesOf(ws, queuedRun);
    expect(Object.keys(b).sort()).toEqual(['keep.out', 'keep.rejected', 'load.out', 'short.out', 'short.rejected']);
    expect(b).toEqual(a);
    // The units really ran on the workers.
    for (const node of ['load', 'keep', 'short']) expect(workerLog.join('')).toContain(`✔ ${node} job`);
  }, 300_000);

  it('a worker SIGKILLed mid-unit: the other worker redoes the unit, the run succeeds with no row lost or duplicated', async () => {
    const local = await cli(['run', join(dir, 'slow.forge.json'), '-w', join(dir, 'ws-slow-local'), '--json']);
    expect(local.code, local.stderr).toBe(0);
    const localRun = (JSON.parse(local.stdout) as { runId: string }).runId;

    const { url } = await startRedis();
    const ws = join(dir, 'ws-kill');
    mkdirSync(join(ws, '.forge'), { recursive: true });
    expect((await cli(['runs', '-w', ws])).code).toBe(0);
    const aLog: string[] = [];
    const a = startWorker(url, join(ws, '.forge'), aLog);
    const run = cli(['run', join(dir, 'slow.forge.json'), '-w', ws, '--json', '--queue', url]);
    for (let i = 0; !aLog.join('').includes('▶ keep'); i++) {
      if (i > 3000) throw new Error(`worker A never started the filter:\n${aLog.join('')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    a.kill('SIGKILL');
    const bLog: string[] = [];
    startWorker(url, join(ws, '.forge'), bLog);
    const queued = await run;
    expect(queued.code, queued.stderr).toBe(0);
    expect(bLog.join('')).toContain('✔ keep job');
    const summary = JSON.parse(queued.stdout) as { runId: string };
    const b = hashesOf(ws, summary.runId);
    expect(b).toEqual(hashesOf(join(dir, 'ws-slow-local'), localRun));
    const engine = Engine.open(ws);
    try {
      const rows = (h: string) => engine.ws.store.manifest(h).rows ?? -1;
      expect(rows(b['keep.out'] as string) + rows(b['keep.rejected'] as string)).toBe(12_000);
    } finally {
      engine.close();
    }
  }, 400_000);
});
