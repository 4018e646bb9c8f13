import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { ranges } from '../../sdk/shards.js';
import { planShardJobs, runShardJobs, type ShardSplit } from '../shards/shard-jobs.js';
import type { NodeRegistry } from '../../registry.js';
import { CancelledError, NodeError } from '../../sdk/node-error.js';
import type { NodeType } from '../../sdk/types.js';
import { ExecutorError, type Executor } from '../executor.js';
import type { UnitHooks, UnitResult, WorkUnit } from '../work-unit.js';
import { QUEUE_NAME, WORKER_KEY_PREFIX, type UnitJobData, type UnitJobError, type UnitJobResult, type WorkerHeartbeat } from './protocol.js';
import { checkRedis, redisOptions, shownUrl } from './redis.js';

/** How long the coordinator tolerates losing Redis before it fails the run's pending units. */
const REDIS_LOSS_GRACE_MS = 10_000;
/** How long closing waits for Redis to acknowledge before dropping the connections. */
const CLOSE_GRACE_MS = 3_000;

/**
 * Sends each work unit to a BullMQ queue instead of a local thread; `forge worker` processes run
 * them against the shared store. Provenance stays with the coordinator: it records what the
 * scheduler gets back, exactly as for local units.
 */
export class QueueExecutor implements Executor {
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly client: Redis;
  private readonly pending = new Map<string, { reject: (err: Error) => void; hooks: UnitHooks }>();
  private lostSince: number | undefined;
  private readonly watchdog: NodeJS.Timeout;

  private constructor(
    readonly url: string,
    private readonly storeRoot: string,
    private readonly registry: NodeRegistry,
    lastEventId: string,
  ) {
    const connection = redisOptions(url);
    this.queue = new Queue(QUEUE_NAME, { connection });
    this.events = new QueueEvents(QUEUE_NAME, { connection, lastEventId });
    this.client = new Redis({ ...connection, maxRetriesPerRequest: 1 });
    for (const c of [this.client]) c.on('error', () => undefined);
    this.queue.on('error', () => undefined);
    this.events.on('error', () => undefined);
    this.events.on('progress', ({ jobId, data }) => {
      const p = this.pending.get(jobId);
      const d = data as { done?: number; total?: number; message?: string; log?: { level: 'info' | 'warn' | 'error'; message: string } };
      if (!p) return;
      if (d.log) p.hooks.log(d.log.level, d.log.message);
      else if (typeof d.done === 'number') p.hooks.progress(d.done, d.total, d.message);
    });
    // ioredis reconnects forever; a run must not wait forever, so units fail once Redis stays gone.
    this.watchdog = setInterval(() => {
      const up = this.client.status === 'ready';
      if (up) this.lostSince = undefined;
      else this.lostSince ??= Date.now();
      if (this.lostSince !== undefined && Date.now() - this.lostSince > REDIS_LOSS_GRACE_MS) {
        const err = new QueueLostError(
          `lost the connection to Redis at ${shownUrl(this.url)} for over ${REDIS_LOSS_GRACE_MS / 1000} s; the run stops here and resumes from the cache once Redis is back`,
        );
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      }
    }, 1000);
    this.watchdog.unref();
  }

  /** Connects, refusing a Redis that may evict keys. */
  static async connect(url: string, storeRoot: string, registry: NodeRegistry): Promise<QueueExecutor> {
    await checkRedis(url);
    const ex = new QueueExecutor(url, storeRoot, registry, await lastEventId(url));
    await ex.events.waitUntilReady();
    return ex;
  }

  async run(def: NodeType, unit: WorkUnit, hooks: UnitHooks, signal: AbortSignal): Promise<UnitResult> {
    if (signal.aborted) throw new CancelledError();
    const split = planShardJobs(def, unit, MAX_SHARD_JOBS);
    if (split) await this.runShardJobs(def, unit, split, hooks, signal);
    // With every shard in the cache, the node's own unit only links them into its output.
    return this.submit(def, unit, hooks, signal);
  }

  /**
   * Sends one job per group of input shards, in parallel, so every free worker takes some; each
   * computes its shards into the shared shard cache. The first failure fails the node naming its
   * shards and withdraws the jobs not yet taken.
   */
  private async runShardJobs(def: NodeType, unit: WorkUnit, split: ShardSplit, hooks: UnitHooks, signal: AbortSignal): Promise<void> {
    let done = split.total - split.todo;
    const workers = new Set<string>();
    hooks.log('info', `queue: ${split.groups.length} shard jobs for input shards ${ranges(split.groups.flat())} of ${split.total} (the rest are in the shard cache)`);
    hooks.progress(done, split.total, `${done}/${split.total} shards`);
    const quiet: UnitHooks = { progress: () => undefined, log: hooks.log };
    await runShardJobs(
      unit,
      split,
      signal,
      async (job, group, jobSignal) => {
        const result = await this.submit(def, job, quiet, jobSignal);
        const w = result.worker;
        if (w) workers.add(w.id);
        done += group.length;
        hooks.log('info', `input shards ${ranges(group)} computed by worker ${w ? `${w.host} pid ${w.pid} (${w.id.slice(0, 8)})` : 'unknown'}`);
        hooks.progress(done, split.total, `${done}/${split.total} shards on ${workers.size} worker${workers.size === 1 ? '' : 's'}`);
      },
      // A lost queue is no shard's fault; naming one would send the reader to the wrong place.
      (err) => err instanceof QueueLostError,
    );
  }

  /** Queues one unit as one job and waits for its result; cancelling removes the job if no worker holds it yet. */
  private submit(def: NodeType, unit: WorkUnit, hooks: UnitHooks, signal: AbortSignal): Promise<UnitJobResult> {
    if (signal.aborted) return Promise.reject(new CancelledError());
    const data: UnitJobData = { unit, storeRoot: this.storeRoot, codeHash: this.registry.codeHash(def.type) };
    const jobId = unit.executionId;
    return new Promise<UnitJobResult>((resolve, reject) => {
      this.pending.set(jobId, { reject, hooks });
      const onAbort = () => {
        // Pending jobs are removed; a job a worker already holds finishes there, and its result is dropped.
        void this.queue.remove(jobId).catch(() => undefined);
        reject(new CancelledError());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue
        .add(def.type, data, { jobId, attempts: 3, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: true, removeOnFail: { age: 24 * 3600 } })
        .then((job) => job.waitUntilFinished(this.events))
        .then(
          (result) => resolve(result as UnitJobResult),
          (err: unknown) => reject(toUnitError(err, def.type)),
        )
        .finally(() => {
          signal.removeEventListener('abort', onAbort);
          this.pending.delete(jobId);
        });
    });
  }

  /** Workers that sent a heartbeat in the last few seconds, with the units they run. */
  async workers(): Promise<WorkerHeartbeat[]> {
    const keys = await this.client.keys(`${WORKER_KEY_PREFIX}*`);
    if (keys.length === 0) return [];
    const values = await this.client.mget(keys);
    return values.filter((v): v is string => !!v).map((v) => JSON.parse(v) as WorkerHeartbeat);
  }

  async close(): Promise<void> {
    clearInterval(this.watchdog);
    // BullMQ's close waits for Redis to answer (QUIT) and never returns while Redis is down, which
    // left a run that had already failed on a lost Redis hanging; past a short wait the
    // connections are dropped instead (ioredis stops reconnecting once disconnected).
    const closed = Promise.allSettled([this.events.close(), this.queue.close()]).then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), CLOSE_GRACE_MS)));
    const clean = await Promise.race([closed, waited]);
    clearTimeout(timer);
    if (!clean) for (const c of [this.events, this.queue]) void c.disconnect().catch(() => undefined);
    this.client.disconnect();
  }
}

/**
 * The newest id in the queue's event stream ('0-0' when there is none). BullMQ's default start,
 * '$', means "from the first XREAD on", and a job that finished before that read (a worker that
 * refuses a unit does so in a millisecond) was never reported: the run waited forever.
 */
export async function lastEventId(url: string): Promise<string> {
  const client = new Redis({ ...redisOptions(url), maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    const [newest] = await client.xrevrange(`bull:${QUEUE_NAME}:events`, '+', '-', 'COUNT', 1);
    return newest?.[0] ?? '0-0';
  } finally {
    client.disconnect();
  }
}

/** Lists a Redis's connected workers without a run in progress (the engine API's /api/workers). */
export async function listWorkers(url: string): Promise<WorkerHeartbeat[]> {
  // The app polls this while its Workers view is open: a Redis that is down answers at once, not after retries.
  const client = new Redis({ ...redisOptions(url), maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 5000 });
  client.on('error', () => undefined);
  try {
    const keys = await client.keys(`${WORKER_KEY_PREFIX}*`);
    const values = keys.length > 0 ? await client.mget(keys) : [];
    return values.filter((v): v is string => !!v).map((v) => JSON.parse(v) as WorkerHeartbeat);
  } finally {
    client.disconnect();
  }
}

/** Redis stayed unreachable: every pending unit fails with this, the run's failure as a whole. */
class QueueLostError extends ExecutorError {}

/** More jobs spread shards more evenly over workers and lose less to a killed one; each costs a few ms of queue traffic. */
const MAX_SHARD_JOBS = 64;

/** A worker's failure arrives as the job's failedReason: JSON of a UnitJobError when the worker encoded one. */
function toUnitError(err: unknown, nodeType: string): Error {
  const message = err instanceof Error ? err.message : String(err);
  try {
    const e = JSON.parse(message) as UnitJobError;
    if (e.name === 'NodeError') return new NodeError(e.message, e.location);
    if (e.name === 'CancelledError') return new CancelledError();
    if (e.name === 'ExecutorError') return new ExecutorError(e.message);
    return new Error(`${e.message} (on a queue worker running ${nodeType})`);
  } catch {
    return new Error(`queue worker failed running ${nodeType}: ${message}`);
  }
}
