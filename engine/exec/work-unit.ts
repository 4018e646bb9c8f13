import type { ArtifactKind, ArtifactRef, InputItem, LogLevel, OutputDescriptor, ShardCacheSlot } from '../sdk/types.js';
import type { RuntimeAccess } from '../security/runtime-paths.js';
import type { JsonValue } from '../util/hash.js';

/**
 * One node execution as plain data: everything a local thread, a worker or (later) a remote
 * executor needs, with artifacts addressed by hash and folder. No functions, no handles.
 */
export interface WorkUnit {
  executionId: string;
  /** Module exporting `createRegistry()`, for executors in other threads or processes. */
  registryModule: string;
  nodeId: string;
  nodeType: string;
  label?: string;
  params: Record<string, unknown>;
  seed: number;
  baseDir: string;
  tmpDir: string;
  inputs: Record<string, ArtifactRef>;
  /** Fan-in inputs: every artifact, with the sweep variant that produced it. */
  multiInputs: Record<string, InputItem[]>;
  variant: Record<string, JsonValue>;
  outputs: Record<string, { kind: ArtifactKind; dir: string }>;
  /** Shard-level resume cache (engine/exec/shards); optional so older executors still fit. */
  shardCache?: ShardCacheSlot;
  /** Only these input shards, into the shard cache (a shard job of a queue run; RunContext.shardSubset). */
  shardSubset?: number[];
  /** What `ctx.resolvePath` may return (engine/security/runtime-paths); absent only for units built outside the scheduler. */
  access?: RuntimeAccess;
}

export interface UnitResult {
  outputs: Record<string, OutputDescriptor>;
  device: string | null;
}

export interface UnitHooks {
  progress(done: number, total: number | undefined, message: string | undefined): void;
  log(level: LogLevel, message: string): void;
}
