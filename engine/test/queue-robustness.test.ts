import { Queue } from 'bullmq';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../engine.js';
import type { RunSummary } from '../exec/events.js';
import { QUEUE_NAME } from '../exec/queue/protocol.js';
import { startQueueWorker } from '../exec/queue/queue-worker.js';
import { redisOptions } from '../exec/queue/redis.js';
import { NodeRegistry } from '../registry.js';
import { NODE_TYPES } from '../../nodes/index.js';
import { hashesOf, POOL_ROWS, QueueLab, waitFor } from './queue-harness.js';

const lab = new QueueLab();
beforeAll(() => lab.writePool());
afterAll(() => lab.cleanup());

describe('queue runs when things go wrong', () => {
  it('Redis stopped mid-run: the run fails naming Redis; after a restart the rerun reuses finished units and matches a local run', async () => {
    const localRun = await lab.localRun('slow.forge.json', join(lab.dir, 'ws-local'));
    const redis = await lab.startRedis();
    const ws = await lab.workspace('ws-redis-loss');
    const log: string[] = [];
    lab.startWorker(redis.url, join(ws, '.forge'), log);

    const run = lab.cli(['run', join(lab.dir, 'slow.forge.json'), '-w', ws, '--json', '--queue', redis.url]);
    await waitFor(
      () => log.join('').includes('▶ keep'),
      () => `the worker never started the filter:\n${log.join('')}`,
    );
    redis.proc.kill('SIGTERM');
    const failed = await run;
    expect(failed.code, failed.stderr).toBe(1);
    const summary = JSON.parse(failed.stdout) as RunSummary;
    expect(summary.status).toBe('failed');
    const keep = summary.nodes.find((n) => n.nodeId === 'keep');
    expect(keep?.state).toBe('failed');
    // Shown as it is: a lost queue, not an internal error of the filter.
    expect(keep?.error).toMatch(new RegExp(`^lost the connection to Redis at ${redis.url} for over 10 s`));
    expect(summary.nodes.find((n) => n.nodeId === 'load')?.state).toBe('executed');

    // Same port, empty Redis (no persistence): the worker reconnects by itself.
    await lab.startRedis([], redis.port);
    const rerun = await lab.cli(['run', join(lab.dir, 'slow.forge.json'), '-w', ws, '--json', '--queue', redis.url]);
    expect(rerun.code, rerun.stderr).toBe(0);
    const resumed = JSON.parse(rerun.stdout) as RunSummary;
    expect(resumed.nodes.find((n) => n.nodeId === 'load')?.state).toBe('cached');
    expect(resumed.nodes.find((n) => n.nodeId === 'keep')?.state).toBe('executed');
    const hashes = hashesOf(ws, resumed.runId);
    expect(hashes).toEqual(hashesOf(join(lab.dir, 'ws-local'), localRun));
    const engine = Engine.open(ws);
    try {
      const rows = (h: string) => engine.ws.store.manifest(h).rows ?? -1;
      expect(rows(hashes['keep.out'] as string) + rows(hashes['keep.rejected'] as string)).toBe(POOL_ROWS);
    } finally {
      engine.close();
    }
  }, 600_000);

  it('cancelling a run removes its pending jobs from the queue', async () => {
    const redis = await lab.startRedis();
    const ws = await lab.workspace('ws-cancel');
    const queue = new Queue(QUEUE_NAME, { connection: redisOptions(redis.url) });
    try {
      // No worker: the first unit waits in the queue until the run is cancelled.
      let coordinator: { kill(signal: NodeJS.Signals): boolean } | undefined;
      const run = lab.cli(['run', join(lab.dir, 'g.forge.json'), '-w', ws, '--json', '--queue', redis.url], (p) => (coordinator = p));
      await waitFor(
        async () => (await queue.getJobCounts('waiting')).waiting === 1,
        () => 'the run never queued its first unit',
      );
      const [job] = await queue.getJobs(['waiting']);
      expect(job?.data).toMatchObject({ unit: { nodeId: 'load', nodeType: 'source.jsonl' } });
      coordinator?.kill('SIGINT');
      const cancelled = await run;
      expect(cancelled.code, cancelled.stderr).toBe(130);
      expect((JSON.parse(cancelled.stdout) as RunSummary).status).toBe('cancelled');
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      expect(counts).toEqual({ waiting: 0, active: 0, delayed: 0, prioritized: 0 });
      expect(await queue.getJob(job?.id ?? '')).toBeUndefined();
    } finally {
      await queue.close();
    }
  }, 600_000);

  it('a worker whose code hash differs refuses the unit and the run fails saying why', async () => {
    const redis = await lab.startRedis();
    const ws = await lab.workspace('ws-stale-worker');
    // Stands for a worker machine with an older checkout: its source.jsonl hashes differently.
    class OlderCheckout extends NodeRegistry {
      override codeHash(type: string): string {
        return type === 'source.jsonl' ? `sha256:${'0'.repeat(64)}` : super.codeHash(type);
      }
    }
    const logs: string[] = [];
    const worker = await startQueueWorker({ url: redis.url, store: join(ws, '.forge'), registry: new OlderCheckout(NODE_TYPES), log: (l) => logs.push(l) });
    try {
      const run = await lab.cli(['run', join(lab.dir, 'g.forge.json'), '-w', ws, '--json', '--queue', redis.url]);
      expect(run.code, run.stderr).toBe(1);
      const load = (JSON.parse(run.stdout) as RunSummary).nodes.find((n) => n.nodeId === 'load');
      expect(load?.state).toBe('failed');
      const mine = new NodeRegistry(NODE_TYPES).codeHash('source.jsonl');
      expect(load?.error).toMatch(/^worker on .+ refuses source.jsonl/);
      expect(load?.error).toContain(`refuses source.jsonl: its code hash sha256:${'0'.repeat(12)} differs from the coordinator's ${mine.slice(0, 19)}`);
      expect(load?.error).toContain("update this worker's checkout");
      expect(logs.join('\n')).toContain('refuses source.jsonl');
      // Refused, not attempted: the worker never started the unit.
      expect(logs.join('\n')).not.toContain('▶ load');
    } finally {
      await worker.close();
    }
  }, 600_000);
});
