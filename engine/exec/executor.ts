import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { CancelledError, NodeError } from '../sdk/node-error.js';
import type { NodeType } from '../sdk/types.js';
import { executeUnit } from './execute-unit.js';
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

/**
 * A failure of where a unit runs (a lost queue, a refusing worker), not of the node's code: the
 * scheduler shows its message as it is, instead of as an internal error of the node type.
 */
export class ExecutorError extends Error {
  override name = 'ExecutorError';
}

/** Light nodes (DuckDB-backed, already multithreaded natively) run in-process; heavy JS runs in piscina workers. */
export class LocalExecutor implements Executor {
  private pool: Piscina | undefined;

  constructor(private readonly maxWorkers = Math.max(1, availableParallelism() - 1)) {}

  async run(def: NodeType, unit: WorkUnit, hooks: UnitHooks, signal: AbortSignal): Promise<UnitResult> {
    if (!def.worker) return executeUnit(def, unit, hooks, signal);
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
