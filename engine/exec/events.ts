import type { ErrorLocation } from '../graph/errors.js';
import type { ArtifactKind, LogLevel } from '../sdk/types.js';
import type { RunMode, RunStatus } from '../provenance/events.js';

export interface OutputInfo {
  port: string;
  hash: string;
  kind: ArtifactKind;
  rows: number | null;
  bytes: number;
  /** A recipe its only consumer computes in its own pass: no rows were written (engine/sdk/deferred.ts). */
  deferred?: true;
}

export type NodeState = 'executed' | 'cached' | 'failed' | 'skipped' | 'cancelled' | 'bypassed' | 'pinned';

export interface NodeOutcome {
  /** The instance id: the node id, or `node[sweep values]` for one variant of a sweep. */
  nodeId: string;
  baseNodeId: string;
  variant: Record<string, number | string | boolean>;
  nodeType: string;
  state: NodeState;
  executionId: string | null;
  durationMs: number;
  /**
   * The largest resident set of the engine's process while the node ran here (nodes running beside
   * it count too). Absent for nodes that did not execute in this process (cached, or run on queue workers).
   */
  peakRssBytes?: number;
  outputs: OutputInfo[];
  error?: string;
  location?: ErrorLocation;
  device?: string | null;
}

export interface RunSummary {
  runId: string;
  status: Exclude<RunStatus, 'running' | 'interrupted'>;
  mode: RunMode;
  durationMs: number;
  nodes: NodeOutcome[];
  /** Instance ids that failed. */
  failed: string[];
  /** Instances that never started, with why (upstream failed, run stopped, cancelled). */
  skipped: { nodeId: string; reason: string }[];
}

/** Live events of a run, streamed to the CLI's progress view and over the server's WebSocket. */
export type RunEvent =
  | { type: 'run.started'; runId: string; mode: RunMode; target: string | null; nodes: string[]; forced: string[]; instances: Record<string, string> }
  | { type: 'node.started'; runId: string; nodeId: string; executionId: string }
  | { type: 'node.progress'; runId: string; nodeId: string; done: number; total?: number; message?: string }
  | { type: 'node.log'; runId: string; nodeId: string; level: LogLevel; message: string }
  | { type: 'node.cached'; runId: string; nodeId: string; outcome: NodeOutcome }
  | { type: 'node.finished'; runId: string; nodeId: string; outcome: NodeOutcome }
  | { type: 'node.failed'; runId: string; nodeId: string; outcome: NodeOutcome }
  | { type: 'node.skipped'; runId: string; nodeId: string; outcome: NodeOutcome }
  | { type: 'run.finished'; runId: string; summary: RunSummary };
