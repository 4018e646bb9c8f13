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
  memoryBytes: number;
  gpu: string | null;
  libraries: Record<string, string>;
  nodeTypes: Record<string, number>;
  /** Real paths of the folders granted for this run beyond the graph folder and workspace (absent in runs recorded before grants existed). */
  grantedFolders?: string[];
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
  | {
      type: 'execution.started';
      runId: string;
      executionId: string;
      nodeId: string;
      nodeType: string;
      nodeVersion: number;
      codeHash: string;
      params: unknown;
      cacheKey: string;
      inputs: PortHash[];
      files: FileHash[];
    }
  | {
      type: 'execution.cached';
      runId: string;
      executionId: string;
      nodeId: string;
      nodeType: string;
      nodeVersion: number;
      codeHash: string;
      params: unknown;
      cacheKey: string;
      reusedExecutionId: string | null;
      inputs: PortHash[];
      files: FileHash[];
      outputs: PortHash[];
    }
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
  | { type: 'execution.skipped'; runId: string; executionId: string; nodeId: string; nodeType: string; nodeVersion: number; reason: string }
  | {
      type: 'execution.refused';
      runId: string;
      executionId: string;
      nodeId: string;
      nodeType: string;
      nodeVersion: number;
      error: string;
      errorLocation: ErrorLocation;
    }
  | { type: 'run.finished'; runId: string; status: Exclude<RunStatus, 'running' | 'interrupted'>; error: string | null }
  | { type: 'run.interrupted'; runId: string; reason: string };
