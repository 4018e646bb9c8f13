import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { CancelledError, NodeError } from '../sdk/node-error.js';
import { ranges } from '../sdk/shards.js';
import type { NodeType } from '../sdk/types.js';
import { executeUnit } from './execute-unit.js';
import { planShardJobs, runShardJobs, type ShardSplit } from './shards/shard-jobs.js';
import type { UnitHooks, UnitResult, WorkUnit } from './work-unit.js';
import type { WorkerMessage, WorkerOutcome } from './worker.js';

/**
 * Where units of work run. The scheduler only sees this interface, so a distributed executor
 * (a job queue over shared artifact storage) can replace the local one without touching it.
 */
export interface Executor {
  run(def: NodeType, unit: WorkUnit, hooks: UnitHooks, signal: AbortSignal): Promise<UnitResult>;
  close(): Promise<void>;
}

export { ExecutorError } from './executor-error.js';

/**
 * Light nodes (DuckDB-backed, already multithreaded natively) run in-process; heavy JS runs in piscina
 * workers. A heavy node that is shard-parallel (`shardable`) is split into shard jobs over the workers,
 * as the queue executor splits it over machines: its JavaScript (e.g. featurising texts for a
 * classifier) would otherwise run on one thread however many cores there are.
 */
export class LocalExecutor implements Executor {
  private pool: Piscina | undefined;

  constructor(private readonly maxWorkers = availableParallelism()) {}

  async run(def: NodeType, unit: WorkUnit, hooks: UnitHooks, signal: AbortSignal): Promise<UnitResult> {
    if (!def.worker) return executeUnit(def, unit, hooks, signal);
    // A few jobs per thread balance uneven shards; each job loads the node's model once.
    const split = planShardJobs(def, unit, this.maxWorkers * 2);
    if (split) await this.runShardJobs(def, unit, split, hooks, signal);
    // With every shard in the cache, the node's own unit only links them into its output.
    return this.runInWorker(def, unit, hooks, signal);
  }

  private async runShardJobs(def: NodeType, unit: WorkUnit, split: ShardSplit, hooks: UnitHooks, signal: AbortSignal): Promise<void> {
    let done = split.total - split.todo;
    hooks.log('info', `${split.groups.length} shard jobs on up to ${this.maxWorkers} threads for input shards ${ranges(split.groups.flat())} of ${split.total} (the rest are in the shard cache)`);
    hooks.progress(done, split.total, `${done}/${split.total} shards`);
    const quiet: UnitHooks = { progress: () => undefined, log: hooks.log };
    await runShardJobs(unit, split, signal, async (job, group, jobSignal) => {
      await this.runInWorker(def, job, quiet, jobSignal);
      done += group.length;
      hooks.progress(done, split.total, `${done}/${split.total} shards`);
    });
  }

  private async runInWorker(def: NodeType, unit: WorkUnit, hooks: UnitHooks, signal: AbortSignal): Promise<UnitResult> {
    this.pool ??= new Piscina({
      filename: new URL('./worker-entry.mjs', import.meta.url).href,
      maxThreads: this.maxWorkers,
      minThreads: 0,
      idleTimeout: 30_000,
    });
    const channel = new MessageChannel();
    channel.port2.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') hooks.progress(m.done, m.total, m.message);
      else hooks.log(m.level, m.message);
    });
    try {
      // Aborting a piscina task terminates its worker thread: the only way to stop a busy JS loop.
      const outcome = (await this.pool.run({ unit, port: channel.port1 }, { transferList: [channel.port1], signal })) as WorkerOutcome;
      if (outcome.ok) return outcome.result;
      if (outcome.error.name === 'CancelledError') throw new CancelledError();
      if (outcome.error.name === 'NodeError') throw new NodeError(outcome.error.message, outcome.error.location);
      const err = new Error(outcome.error.message);
      err.stack = outcome.error.stack;
      throw err;
    } catch (err) {
      if (signal.aborted) throw new CancelledError();
      throw err;
    } finally {
      channel.port2.close();
    }
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
    this.pool = undefined;
  }
}
