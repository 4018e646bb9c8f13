import type { DuckDBConnection } from '@duckdb/node-api';
import type { z } from 'zod';
import type { JsonValue } from '../util/hash.js';
import type { DeferrableSpec } from './deferred.js';

/** What flows along an edge. Ports only connect when their kinds match. */
export const ARTIFACT_KINDS = ['dataset', 'embeddings', 'index', 'model', 'metrics', 'chart'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export interface PortSpec {
  kind: ArtifactKind;
  title?: string;
  description?: string;
  /** An optional input may be left unconnected. Outputs ignore this. */
  optional?: boolean;
  /**
   * A fan-in input: takes any number of edges, and inside a sweep it collects the outputs of every
   * sweep variant (read them with `ctx.inputs(port)`). Implies optional.
   */
  multiple?: boolean;
}

/** One artifact arriving on a fan-in input, with the sweep values that produced it (if any). */
export interface InputItem {
  ref: ArtifactRef;
  /** Sweep parameter values of the variant that produced this artifact, e.g. `{ "mix.agentShare": 0.3 }`. */
  variant: Record<string, JsonValue>;
  /** The upstream node (its base id, without the variant suffix). */
  fromNode: string;
}

export interface ColumnInfo {
  name: string;
  type: string;
}

export interface ArtifactFile {
  /** Relative to the artifact folder, forward slashes. */
  path: string;
  hash: string;
  bytes: number;
}

/** Stored as `manifest.json` inside each artifact folder; its `hash` is the artifact's identity. */
export interface ArtifactManifest {
  hash: string;
  kind: ArtifactKind;
  files: ArtifactFile[];
  bytes: number;
  rows?: number;
  schema?: ColumnInfo[];
  meta: Record<string, JsonValue>;
}

/** A published artifact as a node sees it on an input port. */
export interface ArtifactRef {
  hash: string;
  kind: ArtifactKind;
  /** Absolute folder of the artifact; read-only. */
  dir: string;
  manifest: ArtifactManifest;
}

/** What a node declares about an output it has written into its staging folder. */
export interface OutputDescriptor {
  kind: ArtifactKind;
  rows?: number;
  schema?: ColumnInfo[];
  meta: Record<string, JsonValue>;
}

export interface OutputBuilder {
  readonly port: string;
  readonly kind: ArtifactKind;
  /** Absolute staging folder; everything written here becomes the artifact on success. */
  readonly dir: string;
  /** Absolute path for a file inside the artifact (parent folders are created). */
  file(relativePath: string): string;
  setRows(rows: number): void;
  setSchema(schema: ColumnInfo[]): void;
  setMeta(key: string, value: JsonValue): void;
}

export type LogLevel = 'info' | 'warn' | 'error';

export interface RunContext<P> {
  readonly node: { id: string; type: string; label?: string };
  readonly params: P;
  /** The graph's global seed; a node that samples must derive all randomness from it. */
  readonly seed: number;
  readonly signal: AbortSignal;
  /** Folder that relative paths in params are resolved against (the graph document's folder). */
  readonly baseDir: string;
  input(port: string): ArtifactRef;
  optionalInput(port: string): ArtifactRef | undefined;
  /** Every artifact on a fan-in (`multiple`) input, in a stable order (edge order, then variant order). */
  inputs(port: string): InputItem[];
  /** Sweep values this execution runs under (empty outside a sweep). */
  readonly variant: Record<string, JsonValue>;
  output(port: string): OutputBuilder;
  progress(done: number, total?: number, message?: string): void;
  log(message: string, level?: LogLevel): void;
  /** A DuckDB connection owned by this execution; interrupted on cancel, closed afterwards. */
  duckdb(): Promise<DuckDBConnection>;
  resolvePath(path: string): string;
  /** Records the device / execution provider actually used (shown in provenance). */
  setDevice(device: string): void;
  /** Where shard-parallel nodes keep finished shards for shard-level resume; absent outside the engine. */
  readonly shardCache?: ShardCacheSlot;
  /**
   * Set on a shard job of a distributed run: mapShards computes only these input shard indexes into
   * the shard cache (the node's outputs are then partial and discarded); the node's own unit assembles them later.
   */
  readonly shardSubset?: readonly number[];
  /** The node type behind a deferred input's recipe (engine/sdk/deferred.ts); absent outside the engine. */
  deferredStage?(type: string): Promise<NodeType | undefined>;
}

/**
 * A finished output shard is cached under (nodeKey, output port, input shard hash), so a node
 * killed half-way redoes only its unfinished shards. nodeKey covers type, version, code, params,
 * input files and seed: everything but the input artifacts, which enter per shard.
 */
export interface ShardCacheSlot {
  dir: string;
  nodeKey: string;
}

export interface NodeTypeDefinition<S extends z.ZodType> {
  /** Stable identifier, e.g. `source.jsonl`. */
  type: string;
  /** Bump when outputs for the same inputs change; part of every cache key. */
  version: number;
  category: string;
  title: string;
  description: string;
  inputs: Record<string, PortSpec>;
  outputs: Record<string, PortSpec>;
  params: S;
  /** Deterministic nodes reproduce identical artifact hashes from identical inputs, params and seed. */
  deterministic: boolean;
  /** CPU-heavy JavaScript runs in the worker pool so the server stays responsive. */
  worker?: boolean;
  /**
   * The node maps this input's shards one by one with `mapShards` (engine/sdk/shards.ts) and nothing
   * else it does depends on which shards are in the cache. On a queue run the coordinator then splits
   * the node into shard jobs that different workers take, before the node's unit assembles the output.
   * `when` limits that to the params under which the node maps shards (an opt-in row-wise mode).
   */
  shardable?: { input: string; when?: (params: z.output<S>) => boolean };
  /**
   * A row-wise node whose outputs a consumer can compute in its own pass: when every consumer of it
   * in a run can (`takesDeferred`, or deferrable itself), the engine publishes a recipe instead of
   * running it, and the consumer reads it with `scanDeferred` (engine/sdk/deferred.ts).
   */
  deferrable?: DeferrableSpec<z.output<S>>;
  /** Input ports on which the node, under these params, reads a deferred dataset with `scanDeferred`. */
  takesDeferred?(params: z.output<S>): string[];
  /**
   * Files this node reads, relative to the graph document's folder. The engine hashes them into the
   * cache key and pins them on export, so editing a source file reruns exactly its readers.
   * `node.id` is the node's id in the graph (without a sweep variant suffix), for files kept per node.
   */
  inputFiles?(params: z.output<S>, baseDir: string, node: { id: string }): string[] | Promise<string[]>;
  /** Param names that hold user code (SQL, expressions): imported graphs need consent before running them. */
  codeParams?: string[];
  /**
   * Upgrades the params of a node saved with an older `version` of this type (`fromVersion`) to
   * the current version's shape. Without it, a graph with an older `typeVersion` is refused.
   * Throw an Error with a message naming the param that cannot be migrated.
   */
  migrate?(params: Record<string, unknown>, fromVersion: number): Record<string, unknown>;
  /**
   * The code params run inside an engine sandbox that reaches no file or network beyond the
   * node's own inputs and outputs (user SQL), so they join the trust fingerprint without needing consent.
   */
  confinedCode?: boolean;
  /**
   * Params holding file or folder paths (read or written). Defaults to the params whose schema uses a
   * file/folder/glob widget. Paths outside the graph folder, the workspace and granted folders need trust.
   */
  pathParams?: string[];
  run(ctx: RunContext<z.output<S>>): Promise<void>;
  /** `import.meta.url` of the node's module: its folder's source is hashed into the cache key. */
  module: string;
  /**
   * Non-module files the node's code reads, relative to its folder (Python scripts, protos, worker
   * scripts not opened with `new URL(…, import.meta.url)`): hashed into its code hash, so editing one
   * reruns the node. Modules it imports are found on their own.
   */
  codeFiles?: string[];
}

/** A registered node type: the definition with its params erased to the common shape. */
export type NodeType = NodeTypeDefinition<z.ZodType<Record<string, unknown>>>;

export function defineNode<S extends z.ZodType<Record<string, unknown>>>(def: NodeTypeDefinition<S>): NodeType {
  return def as unknown as NodeType;
}
