import { existsSync } from 'node:fs';
import { NodeError } from '../../sdk/node-error.js';
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
