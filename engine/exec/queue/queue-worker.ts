import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { NodeRegistry } from '../../registry.js';
import { NodeError } from '../../sdk/node-error.js';
import { executeUnit } from '../execute-unit.js';
import { ranges } from '../../sdk/shards.js';
import type { WorkUnit } from '../work-unit.js';
import { QUEUE_NAME, remapUnit, WORKER_KEY_PREFIX, type UnitJobData, type UnitJobError, type UnitJobResult, type WorkerHeartbeat } from './protocol.js';
import { checkRedis, redisOptions, shownUrl } from './redis.js';

const HEARTBEAT_MS = 3000;

export interface QueueWorkerOptions {
  url: string;
  /** This machine's path of the shared `.forge` store. */
  store: string;
  registry: NodeRegistry;
  concurrency?: number;
  log?: (line: string) => void;
}

/**
 * Runs work units from the queue. Units are idempotent: outputs are content-addressed and the
 * result of a finished unit is kept beside its staging folders, so a job delivered twice (a stalled
 * job handed to another worker, a retry) returns the first result instead of redoing the work.
 */
export async function startQueueWorker(o: QueueWorkerOptions): Promise<{ close: () => Promise<void>; worker: Worker }> {
  await checkRedis(o.url);
  const log = o.log ?? (() => undefined);
  const connection = redisOptions(o.url);
  const beat: WorkerHeartbeat = { id: randomUUID(), host: hostname(), pid: process.pid, store: o.store, startedAt: new Date().toISOString(), running: [] };
  const client = new Redis({ ...connection, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  const publish = () => client.set(`${WORKER_KEY_PREFIX}${beat.id}`, JSON.stringify(beat), 'PX', HEARTBEAT_MS * 3).catch(() => undefined);
  const timer = setInterval(() => void publish(), HEARTBEAT_MS);

  const worker = new Worker<UnitJobData, UnitJobResult>(
    QUEUE_NAME,
    async (job) => {
      const subset = job.data.unit.shardSubset;
      const entry = { jobId: job.id ?? '', nodeId: job.data.unit.nodeId, nodeType: job.data.unit.nodeType, since: new Date().toISOString(), ...(subset ? { shards: ranges(subset) } : {}) };
      beat.running.push(entry);
      void publish();
      try {
        return await runJob(job, o, log, { id: beat.id, host: beat.host, pid: beat.pid });
      } finally {
        beat.running = beat.running.filter((r) => r !== entry);
        void publish();
      }
    },
    { connection, concurrency: o.concurrency ?? 1, lockDuration: 15_000, stalledInterval: 5_000, maxStalledCount: 2 },
  );
  worker.on('error', (err) => log(`worker error: ${err.message}`));
  await worker.waitUntilReady();
  await publish();
  log(`forge worker ${beat.id} on ${beat.host} (pid ${beat.pid}): queue ${shownUrl(o.url)}, store ${o.store}`);
  return {
    worker,
    close: async () => {
      clearInterval(timer);
      await worker.close();
      await client.del(`${WORKER_KEY_PREFIX}${beat.id}`).catch(() => undefined);
      client.disconnect();
    },
  };
}

type WorkerId = NonNullable<UnitJobResult['worker']>;

async function runJob(job: Job<UnitJobData, UnitJobResult>, o: QueueWorkerOptions, log: (line: string) => void, me: WorkerId): Promise<UnitJobResult> {
  const { unit: sent, storeRoot, codeHash } = job.data;
  const def = o.registry.get(sent.nodeType);
  if (!def)
    throw new UnrecoverableError(
      encode({ name: 'ExecutorError', message: `worker on ${hostname()} does not know node type ${sent.nodeType}; update this worker's checkout to the coordinator's version` }),
    );
  const mine = o.registry.codeHash(sent.nodeType);
  if (mine !== codeHash) {
    const message = `worker on ${hostname()} refuses ${sent.nodeType}: its code hash ${mine.slice(0, 19)} differs from the coordinator's ${codeHash.slice(0, 19)}; update this worker's checkout to the coordinator's version`;
    log(message);
    // Refusals are the worker's, not the node's: the coordinator shows them as they are (ExecutorError).
    throw new UnrecoverableError(encode({ name: 'ExecutorError', message }));
  }
  const unit = remapUnit(sent, storeRoot, o.store);
  const done = resultFile(unit);
  // Completion is checked before work: a redelivered job returns the first run's result, which
  // names the worker that computed it (provenance's "computed by"), not the one returning it.
  if (done && existsSync(done)) {
    const first = JSON.parse(readFileSync(done, 'utf8')) as UnitJobResult;
    return { ...first, worker: first.worker ?? me };
  }
  // A half-done earlier attempt (its worker was killed) left partial outputs: start them afresh.
  for (const out of Object.values(unit.outputs)) {
    rmSync(out.dir, { recursive: true, force: true });
    mkdirSync(out.dir, { recursive: true });
  }
  const what = unit.shardSubset ? ` input shards ${ranges(unit.shardSubset)}` : '';
  // A shard job's log lines reach the coordinator among other workers' lines: each says whose it is.
  const from = unit.shardSubset ? `worker ${hostname()} pid ${process.pid}, input shards ${ranges(unit.shardSubset)}: ` : '';
  log(`▶ ${unit.nodeId} (${unit.nodeType})${what} job ${job.id}`);
  const controller = new AbortController();
  try {
    const result = await executeUnit(
      def,
      unit,
      {
        progress: (d, total, message) => void job.updateProgress({ done: d, total, message }).catch(() => undefined),
        log: (level, message) => void job.updateProgress({ log: { level, message: from + message } }).catch(() => undefined),
      },
      controller.signal,
      // The coordinator's registry module is a path on its machine; this worker has its own registry.
      (type) => o.registry.get(type),
    );
    const computed: UnitJobResult = { ...result, worker: me };
    if (done) writeFileSync(done, JSON.stringify(computed));
    log(`✔ ${unit.nodeId}${what} job ${job.id}`);
    return computed;
  } catch (err) {
    const e = err as Error;
    log(`✖ ${unit.nodeId}${what} job ${job.id}: ${e.message}`);
    // Node errors are deterministic (bad params or data): retrying elsewhere cannot help.
    if (err instanceof NodeError) throw new UnrecoverableError(encode({ name: 'NodeError', message: e.message, location: err.location }));
    throw new Error(encode({ name: e.name, message: e.message }));
  }
}

/** Beside the first output's staging folder, so the coordinator's discardStaging removes it too. */
function resultFile(unit: WorkUnit): string | undefined {
  const first = Object.values(unit.outputs)[0];
  return first ? `${first.dir}.unit-result.json` : undefined;
}

function encode(e: UnitJobError): string {
  return JSON.stringify(e);
}
