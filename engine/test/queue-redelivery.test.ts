import { Queue, QueueEvents } from 'bullmq';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NODE_TYPES } from '../../nodes/index.js';
import { NodeRegistry } from '../registry.js';
import { QueueLab } from './queue-harness.js';
import type { WorkUnit } from '../exec/work-unit.js';
import { QUEUE_NAME, type UnitJobData, type UnitJobResult } from '../exec/queue/protocol.js';
import { lastEventId } from '../exec/queue/queue-executor.js';
import { startQueueWorker } from '../exec/queue/queue-worker.js';
import { redisOptions } from '../exec/queue/redis.js';

const lab = new QueueLab();
afterAll(() => lab.cleanup());

describe('a job delivered again after its unit finished', () => {
  it('returns the first result, naming the worker that computed it, not the one that returned it', async () => {
    const { url } = await lab.startRedis();
    const store = join(lab.dir, 'redelivery', '.forge');
    const out = join(store, 'tmp', 'exec-1', 'out');
    mkdirSync(out, { recursive: true });
    const registry = new NodeRegistry(NODE_TYPES);
    const unit: WorkUnit = {
      executionId: 'exec-1',
      registryModule: '',
      nodeId: 'load',
      nodeType: 'source.jsonl',
      params: {},
      seed: 0,
      baseDir: lab.dir,
      tmpDir: join(store, 'tmp', 'exec-1'),
      inputs: {},
      multiInputs: {},
      variant: {},
      outputs: { out: { kind: 'dataset', dir: out } },
    };
    // What the first worker left beside the unit's staging folder when it finished.
    const first = { id: 'worker-a', host: 'machine-a', pid: 41 };
    writeFileSync(`${out}.unit-result.json`, JSON.stringify({ outputs: {}, device: null, worker: first }));

    const connection = redisOptions(url);
    const events = new QueueEvents(QUEUE_NAME, { connection, lastEventId: await lastEventId(url) });
    const queue = new Queue(QUEUE_NAME, { connection });
    const b = await startQueueWorker({ url, store, registry });
    try {
      const data: UnitJobData = { unit, storeRoot: store, codeHash: registry.codeHash('source.jsonl') };
      const job = await queue.add('source.jsonl', data, { jobId: 'exec-1' });
      const result = (await job.waitUntilFinished(events)) as UnitJobResult;
      expect(result.worker).toEqual(first);
    } finally {
      await b.close();
      await Promise.all([queue.close(), events.close()]);
    }
  }, 120_000);
});
