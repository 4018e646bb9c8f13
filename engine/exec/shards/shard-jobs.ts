import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CancelledError, NodeError } from '../../sdk/node-error.js';
import { inputShards, ranges, shardCachePath, type InputShard } from '../../sdk/shards.js';
import type { NodeType } from '../../sdk/types.js';
import { ExecutorError } from '../executor-error.js';
import type { WorkUnit } from '../work-unit.js';

/** Staging of shard jobs, under the unit's tmp folder; their outputs are discarded (the shards go to the shard cache). */
export const SHARD_JOB_DIR = 'shard-jobs';

export interface ShardSplit {
  /** Input shard indexes per job, in order. */
  groups: number[][];
  total: number;
  /** Input shards not in the shard cache yet. */
  todo: number;
}

/**
 * The shard jobs of a unit, or undefined when it runs as one unit: the node must declare `shardable`
 * (and its `when`, if any, must hold for the unit's params), have a shard cache (not forced) and at
 * least two input shards not yet cached for every dataset output. At most `maxJobs` jobs, each a
 * contiguous run of the shards still to do.
 */
export function planShardJobs(def: NodeType, unit: WorkUnit, maxJobs: number): ShardSplit | undefined {
  const cache = unit.shardCache;
  const sharding = def.shardable;
  const ref = sharding && (sharding.when?.(unit.params) ?? true) ? unit.inputs[sharding.input] : undefined;
  if (!cache || !ref || ref.kind !== 'dataset' || unit.shardSubset) return undefined;
  let shards: InputShard[];
  try {
    shards = inputShards(ref);
  } catch {
    // Not a sharded dataset: the node's own unit reports that, with its location.
    return undefined;
  }
  const ports = Object.entries(def.outputs)
    .filter(([, spec]) => spec.kind === 'dataset')
    .map(([port]) => port);
  const todo = shards.filter((s) => !ports.every((port) => existsSync(shardCachePath(cache, port, s.hash)))).map((s) => s.index);
  if (todo.length < 2) return undefined;
  const size = Math.ceil(todo.length / Math.max(1, maxJobs));
  const groups: number[][] = [];
  for (let i = 0; i < todo.length; i += size) groups.push(todo.slice(i, i + size));
  return { groups, total: shards.length, todo: todo.length };
}

/** A shard job's failure becomes the node's, with the input shards it was computing named first. */
export function shardFailure(err: Error, group: number[], total: number): Error {
  const what = `input shard${group.length === 1 ? '' : 's'} ${ranges(group)} of ${total}`;
  if (err instanceof NodeError) return new NodeError(`${what}: ${err.message}`, err.location);
  if (err instanceof ExecutorError) return new ExecutorError(`${what}: ${err.message}`);
  return new Error(`${what}: ${err.message}`);
}

/**
 * Runs every group of `split` as its own unit (a shard subset, with throw-away outputs), in
 * parallel, through `runJob`; each job computes its shards into the shard cache. The first failure
 * cancels the other jobs and fails the node naming its shards (unless `passThrough` says the error
 * is no shard's fault).
 */
export async function runShardJobs(
  unit: WorkUnit,
  split: ShardSplit,
  signal: AbortSignal,
  runJob: (job: WorkUnit, group: number[], signal: AbortSignal) => Promise<void>,
  passThrough: (err: Error) => boolean = () => false,
): Promise<void> {
  const dir = join(unit.tmpDir, SHARD_JOB_DIR, unit.executionId);
  const local = new AbortController();
  const stop = () => local.abort();
  signal.addEventListener('abort', stop, { once: true });
  let failure: Error | undefined;
  try {
    await Promise.all(
      split.groups.map(async (group, k) => {
        const outputs = Object.fromEntries(
          Object.entries(unit.outputs).map(([port, o]) => {
            const d = join(dir, String(k), port);
            mkdirSync(d, { recursive: true });
            return [port, { kind: o.kind, dir: d }];
          }),
        );
        const job: WorkUnit = { ...unit, executionId: `${unit.executionId}-s${k}`, outputs, shardSubset: group };
        try {
          await runJob(job, group, local.signal);
        } catch (err) {
          if (failure || err instanceof CancelledError) return;
          failure = passThrough(err as Error) ? (err as Error) : shardFailure(err as Error, group, split.total);
          local.abort();
        }
      }),
    );
  } finally {
    signal.removeEventListener('abort', stop);
    // After a failure or cancel, a worker still holding a shard job may be writing here: removing the
    // staging folder then races it (ENOTEMPTY), and that must not replace the run's real error.
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 200 });
    } catch {
      // Left in the store's tmp, which holds only discardable staging.
    }
  }
  if (signal.aborted) throw new CancelledError();
  if (failure) throw failure;
}
