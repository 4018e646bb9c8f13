import type { ErrorLocation } from '../graph/errors.js';
import type { ArtifactManifest } from '../sdk/types.js';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';
export type ExecutionStatus = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'skipped' | 'interrupted';
export type RunMode = 'all' | 'node' | 'from';

export interface PortHash {
  port: string;
  hash: string;
}

export interface FileHash {
  path: string;
  hash: string;
  bytes: number;
}

export interface EnvironmentInfo {
  engineVersion: string;
  node: string;
  platform: string;
  arch: string;
  os: string;
  cpu: string;
  cores: number;
  /** libuv's thread pool, where DuckDB's queries and file I/O run (absent in runs recorded before it was sized). */
  threadPool?: number;
  memoryBytes: number;
  gpu: string | null;
  libraries: Record<string, string>;
  nodeTypes: Record<string, number>;
  /** Real paths of the folders granted for this run beyond the graph folder and workspace (absent in runs recorded before grants existed). */
  grantedFolders?: string[];
}

/** What every execution record of one node instance shares. */
export interface ExecutionIdentity {
  executionId: string;
  nodeId: string;
  nodeType: string;
  nodeVersion: number;
}

/** The cache-relevant facts of an execution that reads inputs (cached or executed). */
export interface ExecutionFacts extends ExecutionIdentity {
  codeHash: string;
  params: unknown;
  cacheKey: string;
  inputs: PortHash[];
  files: FileHash[];
}

/**
 * The append-only event log. Every change to the query tables is one of these, applied in the same
 * transaction that appends it, so the tables can always be rebuilt from the log.
 */
export type ProvenanceEvent =
  | { type: 'graph.saved'; hash: string; name: string | null; doc: string }
  | {
      type: 'run.started';
      runId: string;
      graphHash: string;
      graphPath: string | null;
      trigger: string;
      mode: RunMode;
      target: string | null;
      environment: EnvironmentInfo;
      pid: number;
      host: string;
    }
  | ({ type: 'execution.started'; runId: string } & ExecutionFacts)
  | ({ type: 'execution.cached'; runId: string; reusedExecutionId: string | null; outputs: PortHash[] } & ExecutionFacts)
  | { type: 'artifact.published'; executionId: string; manifest: ArtifactManifest }
  | {
      type: 'execution.finished';
      runId: string;
      executionId: string;
      status: Exclude<ExecutionStatus, 'running'>;
      durationMs: number;
      error: string | null;
      errorLocation: ErrorLocation | null;
      logs: string[];
      device: string | null;
      outputs: PortHash[];
    }
  | ({ type: 'execution.skipped'; runId: string; reason: string } & ExecutionIdentity)
  | ({ type: 'execution.refused'; runId: string; error: string; errorLocation: ErrorLocation } & ExecutionIdentity)
  | { type: 'run.finished'; runId: string; status: Exclude<RunStatus, 'running' | 'interrupted'>; error: string | null }
  | { type: 'run.interrupted'; runId: string; reason: string };
