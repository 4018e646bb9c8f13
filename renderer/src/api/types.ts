// The wire types are the engine's own (type-only imports are erased at build time), so the UI and
// the server cannot drift apart silently: `npm run typecheck` checks both sides together.
export type { NodeTypeInfo } from '../../../engine/registry.js';
export type { RunEvent, NodeOutcome, OutputInfo, RunSummary, NodeState } from '../../../engine/exec/events.js';
export type { GraphDocument, GraphNode, GraphEdge, PortRef } from '../../../engine/graph/document.js';
export type { RunRow, RunDetail, RunDiff, LineageStep, ExecutionRow, RowCountPoint } from '../../../engine/provenance/queries.js';
export type { Preview } from '../../../engine/store/preview.js';
export type { Diagnostic, ErrorLocation } from '../../../engine/graph/errors.js';
export type { ArtifactKind, PortSpec, ArtifactManifest } from '../../../engine/sdk/types.js';
export type { RunMode } from '../../../engine/provenance/events.js';
export type { GraphPlan, PlannedNode, PlanAction } from '../../../engine/exec/plan.js';
/** GET /api/workers: a connected `forge worker`'s heartbeat. */
export type { WorkerHeartbeat as WorkerInfo } from '../../../engine/exec/queue/protocol.js';

/** GET /api/health */
export interface Health {
  ok: boolean;
  version: string;
  workspace: string;
}

/** GET /api/files */
export interface WorkspaceFile {
  path: string;
  bytes: number;
}
