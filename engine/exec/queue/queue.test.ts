import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../engine.js';
import { GRAPH, hashesOf, POOL_ROWS, QueueLab, waitFor } from '../../test/queue-harness.js';
import { checkRedis } from './redis.js';
import { listWorkers } from './queue-executor.js';

const lab = new QueueLab();
beforeAll(() => lab.writePool());
afterAll(() => lab.cleanup());

describe('distributed runs on BullMQ', () => {
  it('refuses a Redis whose maxmemory-policy may evict jobs', async () => {
    const { url } = await lab.startRedis(['--maxmemory-policy', 'allkeys-lru']);
    await expect(checkRedis(url)).rejects.toThrow(/maxmemory-policy allkeys-lru.*noeviction/);
    // Both ends refuse it before any work is queued, with the fix in the message.
    const run = await lab.cli(['run', join(lab.dir, 'g.forge.json'), '-w', join(lab.dir, 'ws-evicting'), '--queue', url]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`Redis at ${url} has maxmemory-policy allkeys-lru; Forge needs noeviction`);
    const worker = await lab.cli(['worker', '--queue', url, '--store', join(lab.dir, 'ws-evicting', '.forge')]);
    expect(worker.code).not.toBe(0);
    expect(worker.stderr).toContain('CONFIG SET maxmemory-policy noeviction');
  }, 120_000);

  it('two forge workers give the same artifact hashes as a local run, and show up as connected workers', async () => {
    const localRun = await lab.localRun('g.forge.json', join(lab.dir, 'ws-local'));

    const { url } = await lab.startRedis();
    const ws = join(lab.dir, 'ws-queue');
    // The coordinator creates the store; workers on "other machines" reach it as a shared folder.
    mkdirSync(join(ws, '.forge'), { recursive: true });
    const first = await lab.cli(['runs', '-w', ws]);
    expect(first.code, first.stderr).toBe(0);
    lab.startWorker(url, join(ws, '.forge'));
    lab.startWorker(url, join(ws, '.forge'));
    await waitFor(
      async () => (await listWorkers(url)).length >= 2,
      () => 'workers did not connect',
      600,
    );
    const workers = await listWorkers(url);
    expect(workers.map((w) => w.store)).toEqual([join(ws, '.forge'), join(ws, '.forge')]);

    const queued = await lab.cli(['run', join(lab.dir, 'g.forge.json'), '-w', ws, '--json', '--queue', url]);
    expect(queued.code, queued.stderr).toBe(0);
    const queuedRun = (JSON.parse(queued.stdout) as { runId: string }).runId;
    const a = hashesOf(join(lab.dir, 'ws-local'), localRun);
    const b = hashesOf(ws, queuedRun);
    expect(Object.keys(b).sort()).toEqual(['keep.out', 'keep.rejected', 'load.out', 'short.out', 'short.rejected']);
    expect(b).toEqual(a);
    // The units really ran on the workers.
    for (const node of ['load', 'keep', 'short']) expect(lab.workerLog.join('')).toContain(`✔ ${node} job`);
  }, 300_000);

  it('a deferred chain (source → filters → sink.write) runs in the sink’s pass on a worker, writing the file a local run writes', async () => {
    const doc = {
      ...GRAPH,
      nodes: [...GRAPH.nodes, { id: 'write', type: 'sink.write', params: { path: 'out/kept.jsonl', format: 'jsonl' } }],
      edges: [...GRAPH.edges, { from: { node: 'short', port: 'out' }, to: { node: 'write', port: 'in' } }],
    };
    writeFileSync(join(lab.dir, 'deferred.forge.json'), JSON.stringify(doc));
    const localRun = await lab.localRun('deferred.forge.json', join(lab.dir, 'ws-deferred-local'));
    const out = join(lab.dir, 'out', 'kept.jsonl');
    const written = readFileSync(out, 'utf8');
    rmSync(out);

    const { url } = await lab.startRedis();
    const ws = join(lab.dir, 'ws-deferred');
    mkdirSync(join(ws, '.forge'), { recursive: true });
    expect((await lab.cli(['runs', '-w', ws])).code).toBe(0);
    const log: string[] = [];
    lab.startWorker(url, join(ws, '.forge'), log);
    const queued = await lab.cli(['run', join(lab.dir, 'deferred.forge.json'), '-w', ws, '--json', '--queue', url]);
    expect(queued.code, queued.stderr).toBe(0);
    expect(log.join('')).toContain('✔ write job');
    const a = hashesOf(join(lab.dir, 'ws-deferred-local'), localRun);
    const b = hashesOf(ws, (JSON.parse(queued.stdout) as { runId: string }).runId);
    expect(b).toEqual(a);
    expect(Object.keys(b).sort()).toEqual(['keep.out', 'keep.rejected', 'load.out', 'short.out', 'short.rejected', 'write.report']);
    // The worker wrote the file again (the local run's copy was removed), with the same bytes.
    expect(readFileSync(out, 'utf8')).toBe(written);
    expect(written.split('\n').length).toBeGreaterThan(1000);
  }, 300_000);

  it('a worker SIGKILLed mid-unit: the other worker redoes the unit, the run succeeds with no row lost or duplicated', async () => {
    const localRun = await lab.localRun('slow.forge.json', join(lab.dir, 'ws-slow-local'));

    const { url } = await lab.startRedis();
    const ws = join(lab.dir, 'ws-kill');
    mkdirSync(join(ws, '.forge'), { recursive: true });
    expect((await lab.cli(['runs', '-w', ws])).code).toBe(0);
    const aLog: string[] = [];
    const a = lab.startWorker(url, join(ws, '.forge'), aLog);
    const run = lab.cli(['run', join(lab.dir, 'slow.forge.json'), '-w', ws, '--json', '--queue', url]);
    await waitFor(
      () => aLog.join('').includes('▶ keep'),
      () => `worker A never started the filter:\n${aLog.join('')}`,
    );
    a.kill('SIGKILL');
    const bLog: string[] = [];
    lab.startWorker(url, join(ws, '.forge'), bLog);
    const queued = await run;
    expect(queued.code, queued.stderr).toBe(0);
    expect(bLog.join('')).toContain('✔ keep job');
    const summary = JSON.parse(queued.stdout) as { runId: string };
    const b = hashesOf(ws, summary.runId);
    expect(b).toEqual(hashesOf(join(lab.dir, 'ws-slow-local'), localRun));
    const engine = Engine.open(ws);
    try {
      const rows = (h: string) => engine.ws.store.manifest(h).rows ?? -1;
      expect(rows(b['keep.out'] as string) + rows(b['keep.rejected'] as string)).toBe(POOL_ROWS);
    } finally {
      engine.close();
    }
  }, 400_000);
});
