import { Queue } from 'bullmq';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../engine.js';
import type { RunSummary } from '../events.js';
import { CLI_ENV, hashesOf, POOL_ROWS, QueueLab, SLOW_GRAPH, waitFor } from '../../test/queue-harness.js';
import { QUEUE_NAME } from './protocol.js';
import { listWorkers } from './queue-executor.js';
import { redisOptions } from './redis.js';

/** 1,000-row shards: the 12,000-row pool gives the filter 12 input shards to spread over workers. */
const lab = new QueueLab({ ...CLI_ENV, FORGE_SHARD_ROWS: '1000' });
/** About a second of work per shard, so a worker can be killed while it holds one. */
const SLOWER = { ...SLOW_GRAPH, nodes: [SLOW_GRAPH.nodes[0], { id: 'keep', type: 'transform.filter', params: { where: "score > 0.4 AND md5(repeat(text, 3000)) <> ''" } }] };
/** A classifier trained on the pool's high- vs low-score pages scores the whole pool: two shard-parallel nodes. */
const SCORED = {
  format: 'forge-graph',
  version: 2,
  seed: 3,
  nodes: [
    SLOW_GRAPH.nodes[0],
    { id: 'split', type: 'transform.filter', params: { where: 'score > 0.4' } },
    { id: 'train', type: 'ml.classifier-train', params: { positiveLabel: 'high', negativeLabel: 'low', dim: 8, bucket: 20_000, epoch: 2 } },
    { id: 'score', type: 'ml.classifier-score', params: { scoreColumn: 'p_high' } },
  ],
  edges: [
    { from: { node: 'load', port: 'out' }, to: { node: 'split', port: 'in' } },
    { from: { node: 'split', port: 'out' }, to: { node: 'train', port: 'positives' } },
    { from: { node: 'split', port: 'rejected' }, to: { node: 'train', port: 'negatives' } },
    { from: { node: 'train', port: 'model' }, to: { node: 'score', port: 'model' } },
    { from: { node: 'load', port: 'out' }, to: { node: 'score', port: 'in' } },
  ],
};
/** Two SQL nodes on the pool: one declares itself row-wise (perShard), the other runs as one query. */
const SQL_GRAPH = {
  format: 'forge-graph',
  version: 2,
  seed: 3,
  nodes: [
    SLOW_GRAPH.nodes[0],
    { id: 'rowwise', type: 'transform.sql', params: { query: 'SELECT id, upper(text) AS text, source, score FROM a WHERE score > 0.2', perShard: true } },
    { id: 'whole', type: 'transform.sql', params: { query: 'SELECT id, lower(text) AS text, source FROM a WHERE score > 0.6' } },
  ],
  edges: [
    { from: { node: 'load', port: 'out' }, to: { node: 'rowwise', port: 'a' } },
    { from: { node: 'load', port: 'out' }, to: { node: 'whole', port: 'a' } },
  ],
};
beforeAll(async () => {
  await lab.writePool();
  writeFileSync(join(lab.dir, 'slower.forge.json'), JSON.stringify(SLOWER));
  writeFileSync(join(lab.dir, 'scored.forge.json'), JSON.stringify(SCORED));
  writeFileSync(join(lab.dir, 'sql.forge.json'), JSON.stringify(SQL_GRAPH));
});
afterAll(() => lab.cleanup());

/** The provenance log lines of node `nodeId`'s execution in run `runId`. */
function logsOf(ws: string, runId: string, nodeId: string): string[] {
  const engine = Engine.open(ws);
  try {
    return engine.ws.queries.run(runId).executions.find((e) => e.nodeId === nodeId && !e.cached)?.logs ?? [];
  } finally {
    engine.close();
  }
}

function rowsOf(ws: string, hashes: Record<string, string>, ports: string[]): number {
  const engine = Engine.open(ws);
  try {
    return ports.reduce((sum, p) => sum + (engine.ws.store.manifest(hashes[p] as string).rows ?? -1), 0);
  } finally {
    engine.close();
  }
}

/** Two workers on workspace `ws`'s store, once both are connected. */
async function twoWorkers(url: string, ws: string, aLog: string[] = [], bLog: string[] = []): Promise<[ChildProcess, ChildProcess]> {
  const a = lab.startWorker(url, join(ws, '.forge'), aLog);
  const b = lab.startWorker(url, join(ws, '.forge'), bLog);
  await waitFor(
    async () => (await listWorkers(url)).length >= 2,
    () => 'workers did not connect',
  );
  return [a, b];
}

/** `[shard, pid]` for every "input shards … computed by worker … pid N" provenance line. */
function computedBy(logs: string[]): { shards: string; pid: number }[] {
  return logs.flatMap((l) => {
    const m = /input shards? ([\d, -]+) computed by worker \S+ pid (\d+)/.exec(l);
    return m ? [{ shards: m[1] as string, pid: Number(m[2]) }] : [];
  });
}

describe('one shard-parallel node spread over queue workers', () => {
  it('two workers each compute shards of the one filter node; the output hashes equal a local run', async () => {
    const localRun = await lab.localRun('slower.forge.json', join(lab.dir, 'ws-local'));
    const { url } = await lab.startRedis();
    const ws = await lab.workspace('ws-spread');
    const aLog: string[] = [];
    const bLog: string[] = [];
    const [a, b] = await twoWorkers(url, ws, aLog, bLog);

    const run = await lab.cli(['run', join(lab.dir, 'slower.forge.json'), '-w', ws, '--json', '--queue', url]);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as RunSummary;
    const hashes = hashesOf(ws, summary.runId);
    expect(hashes).toEqual(hashesOf(join(lab.dir, 'ws-local'), localRun));
    expect(rowsOf(ws, hashes, ['keep.out', 'keep.rejected'])).toBe(POOL_ROWS);

    // Both workers took shard jobs of `keep` (their own logs) …
    expect(aLog.join('')).toMatch(/✔ keep input shards? \d/);
    expect(bLog.join('')).toMatch(/✔ keep input shards? \d/);
    // … and provenance names, for each input shard, the worker process that computed it.
    const by = computedBy(logsOf(ws, summary.runId, 'keep'));
    expect(new Set(by.map((x) => x.pid))).toEqual(new Set([a.pid, b.pid]));
    expect(by.length).toBe(12);
    // The node's own unit then only assembled the cached shards.
    expect(logsOf(ws, summary.runId, 'keep')).toContain('[info] shards: 0 of 12 executed, 12 reused from the shard cache (0-11)');
  }, 400_000);

  it('ml.classifier-score runs as one shard job per input shard on the workers; its output hash equals a local run', async () => {
    const localRun = await lab.localRun('scored.forge.json', join(lab.dir, 'ws-scored-local'));
    const { url } = await lab.startRedis();
    const ws = await lab.workspace('ws-scored');
    const [a, b] = await twoWorkers(url, ws);
    const run = await lab.cli(['run', join(lab.dir, 'scored.forge.json'), '-w', ws, '--json', '--queue', url]);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as RunSummary;
    const hashes = hashesOf(ws, summary.runId);
    expect(hashes['score.out']).toBe(hashesOf(join(lab.dir, 'ws-scored-local'), localRun)['score.out']);
    expect(rowsOf(ws, hashes, ['score.out'])).toBe(POOL_ROWS);
    // Every one of the 12 input shards was scored by a worker's shard job, not by one job for the node …
    const logs = logsOf(ws, summary.runId, 'score');
    const by = computedBy(logs);
    expect(by.map((x) => x.shards).sort((x, y) => Number(x) - Number(y))).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
    for (const x of by) expect([a.pid, b.pid]).toContain(x.pid);
    // … and the node's own unit only assembled them.
    expect(logs).toContain('[info] shards: 0 of 12 executed, 12 reused from the shard cache (0-11)');
  }, 400_000);

  it('transform.sql goes out as shard jobs only when its params say it is row-wise (perShard); hashes equal a local run', async () => {
    const localRun = await lab.localRun('sql.forge.json', join(lab.dir, 'ws-sql-local'));
    const { url } = await lab.startRedis();
    const ws = await lab.workspace('ws-sql');
    const [a, b] = await twoWorkers(url, ws);
    const run = await lab.cli(['run', join(lab.dir, 'sql.forge.json'), '-w', ws, '--json', '--queue', url]);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as RunSummary;
    const hashes = hashesOf(ws, summary.runId);
    expect(hashes).toEqual(hashesOf(join(lab.dir, 'ws-sql-local'), localRun));
    const rowwise = logsOf(ws, summary.runId, 'rowwise');
    const by = computedBy(rowwise);
    expect(by.map((x) => x.shards).sort((x, y) => Number(x) - Number(y))).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
    for (const x of by) expect([a.pid, b.pid]).toContain(x.pid);
    expect(rowwise).toContain('[info] shards: 0 of 12 executed, 12 reused from the shard cache (0-11)');
    // The other query is one job: no shard jobs, no shard log.
    const whole = logsOf(ws, summary.runId, 'whole');
    expect(computedBy(whole)).toEqual([]);
    expect(whole.some((l) => l.includes('shards:'))).toBe(false);
  }, 400_000);

  it('a worker SIGKILLed mid-node: the other redoes its shard job; no row lost or duplicated, hashes equal a local run', async () => {
    const localRun = await lab.localRun('slower.forge.json', join(lab.dir, 'ws-local-2'));
    const { url } = await lab.startRedis();
    const ws = await lab.workspace('ws-kill');
    const aLog: string[] = [];
    const a = lab.startWorker(url, join(ws, '.forge'), aLog);
    const run = lab.cli(['run', join(lab.dir, 'slower.forge.json'), '-w', ws, '--json', '--queue', url]);
    // Kill A after it finished at least one shard job and while it holds the next one.
    let held = '';
    await waitFor(
      () => {
        const text = aLog.join('');
        const started = [...text.matchAll(/▶ keep \(transform\.filter\) input shards? ([\d, -]+) job/g)].map((m) => m[1] as string);
        if (!text.includes('✔ keep input shard') || started.length < 2) return false;
        held = started[started.length - 1] as string;
        return !text.includes(`✔ keep input shard ${held} job`) && !text.includes(`✔ keep input shards ${held} job`);
      },
      () => `worker A never held a second shard job of keep:\n${aLog.join('')}`,
    );
    a.kill('SIGKILL');
    const bLog: string[] = [];
    const b = lab.startWorker(url, join(ws, '.forge'), bLog);
    const finished = await run;
    expect(finished.code, finished.stderr).toBe(0);
    // The job A held when it died was redone by B.
    expect(bLog.join('')).toMatch(new RegExp(`✔ keep input shards? ${held} job`));
    const summary = JSON.parse(finished.stdout) as RunSummary;
    const by = computedBy(logsOf(ws, summary.runId, 'keep'));
    expect(by.find((x) => x.shards === held)?.pid).toBe(b.pid);
    expect(by.some((x) => x.pid === a.pid)).toBe(true);
    const hashes = hashesOf(ws, summary.runId);
    expect(hashes).toEqual(hashesOf(join(lab.dir, 'ws-local-2'), localRun));
    expect(rowsOf(ws, hashes, ['keep.out', 'keep.rejected'])).toBe(POOL_ROWS);
  }, 600_000);

  it('cancelling the run while a worker holds one shard job removes the pending ones', async () => {
    const { url } = await lab.startRedis();
    const ws = await lab.workspace('ws-cancel');
    const log: string[] = [];
    lab.startWorker(url, join(ws, '.forge'), log);
    const queue = new Queue(QUEUE_NAME, { connection: redisOptions(url) });
    try {
      let coordinator: ChildProcess | undefined;
      const run = lab.cli(['run', join(lab.dir, 'slower.forge.json'), '-w', ws, '--json', '--queue', url], (p) => (coordinator = p));
      await waitFor(
        () => log.join('').includes('▶ keep (transform.filter) input shards'),
        () => `the worker never took a shard job:\n${log.join('')}`,
      );
      const waiting = (await queue.getJobs(['waiting'])).map((j) => j.id);
      expect(waiting.length).toBeGreaterThan(0);
      coordinator?.kill('SIGINT');
      const cancelled = await run;
      expect(cancelled.code, cancelled.stderr).toBe(130);
      expect((JSON.parse(cancelled.stdout) as RunSummary).status).toBe('cancelled');
      for (const id of waiting) expect(await queue.getJob(id ?? '')).toBeUndefined();
      expect(await queue.getJobCounts('waiting', 'delayed', 'prioritized')).toEqual({ waiting: 0, delayed: 0, prioritized: 0 });
    } finally {
      await queue.close();
    }
  }, 600_000);

  it('a shard job that fails fails the node naming its input shard', async () => {
    const { url } = await lab.startRedis();
    const ws = await lab.workspace('ws-fail');
    const bad = { ...SLOWER, nodes: [SLOWER.nodes[0], { id: 'keep', type: 'transform.filter', params: { where: "CASE WHEN id = 'd5500' THEN error('bad row d5500') ELSE score > 0.4 END" } }] };
    writeFileSync(join(lab.dir, 'bad.forge.json'), JSON.stringify(bad));
    const log: string[] = [];
    lab.startWorker(url, join(ws, '.forge'), log);
    const run = await lab.cli(['run', join(lab.dir, 'bad.forge.json'), '-w', ws, '--json', '--queue', url]);
    expect(run.code, run.stderr).toBe(1);
    const keep = (JSON.parse(run.stdout) as RunSummary).nodes.find((n) => n.nodeId === 'keep');
    expect(keep?.state).toBe('failed');
    // Rows d5000-d5999 are input shard 5 of the 1,000-row shards.
    expect(keep?.error).toMatch(/^input shard 5 of 12: expression failed on the data: .*bad row d5500/);
    expect(keep?.location).toMatchObject({ nodeId: 'keep', field: 'params.where' });
    expect(log.join('')).toMatch(/✖ keep input shards 5 job/);
  }, 600_000);
});
