import { hostname } from 'node:os';
import type { ErrorLocation } from '../graph/errors.js';
import type { ArtifactManifest } from '../sdk/types.js';
import type { ProvenanceDb } from './db.js';
import type { EnvironmentInfo, ExecutionFacts, ExecutionIdentity, PortHash, ProvenanceEvent, RunMode, RunStatus } from './events.js';

// The scheduler names executions in the event vocabulary's own terms.
export type { ExecutionFacts, ExecutionIdentity } from './events.js';

/**
 * Every provenance write of one run, in one place: the scheduler says what happened, this module
 * decides which events (and so which SQL rows) record it. Nothing else in `exec/` touches the db.
 */
export class RunRecorder {
  /**
   * Cache hits waiting to be written with the next write of this run. A stretch of hits then costs
   * one commit instead of one each (the cached rerun of a large graph is mostly commits); nothing
   * looks cache hits up, so writing them a little later changes no decision, and order is kept.
   */
  private pending: ProvenanceEvent[] = [];

  constructor(
    private readonly db: ProvenanceDb,
    readonly runId: string,
  ) {}

  /** Snapshots are content-addressed: the event log keeps each distinct graph once. */
  started(g: { graphHash: string; name: string | null; canonicalDoc: string; graphPath: string | null; trigger: string; mode: RunMode; target: string | null; environment: EnvironmentInfo }): void {
    if (!this.db.stmt('SELECT 1 FROM graphs WHERE hash = ?').get(g.graphHash)) {
      this.write({ type: 'graph.saved', hash: g.graphHash, name: g.name, doc: g.canonicalDoc });
    }
    this.write({
      type: 'run.started',
      runId: this.runId,
      graphHash: g.graphHash,
      graphPath: g.graphPath,
      trigger: g.trigger,
      mode: g.mode,
      target: g.target,
      environment: g.environment,
      pid: process.pid,
      host: hostname(),
    });
  }

  cached(facts: ExecutionFacts, reusedExecutionId: string | null, outputs: PortHash[]): void {
    this.pending.push({ type: 'execution.cached', runId: this.runId, ...facts, reusedExecutionId, outputs });
  }

  executionStarted(facts: ExecutionFacts): void {
    this.write({ type: 'execution.started', runId: this.runId, ...facts });
  }

  /**
   * The artifacts and the finish are one transaction: a crash leaves neither or both. `alsoInTransaction`
   * (releasing the execution's lease) commits with them, so a waiting run finds the result the moment the lease goes.
   */
  executionSucceeded(executionId: string, r: { durationMs: number; logs: string[]; device: string | null; published: ArtifactManifest[]; outputs: PortHash[] }, alsoInTransaction?: () => void): void {
    this.writeAll(
      [
        ...this.publishedEvents(executionId, r.published),
        {
          type: 'execution.finished',
          runId: this.runId,
          executionId,
          status: 'succeeded',
          durationMs: r.durationMs,
          error: null,
          errorLocation: null,
          logs: r.logs,
          device: r.device,
          outputs: r.outputs,
        },
      ],
      alsoInTransaction,
    );
  }

  /** Artifacts published before the failure (an earlier output port) stay on record. */
  executionEnded(executionId: string, r: { status: 'failed' | 'cancelled'; durationMs: number; error: string; location: ErrorLocation | null; logs: string[]; published: ArtifactManifest[] }): void {
    this.writeAll([
      ...this.publishedEvents(executionId, r.published),
      { type: 'execution.finished', runId: this.runId, executionId, status: r.status, durationMs: r.durationMs, error: r.error, errorLocation: r.location, logs: r.logs, device: null, outputs: [] },
    ]);
  }

  /** A node that never started: upstream failed, the run stopped or was cancelled (written with the next write, like cache hits). */
  skipped(id: ExecutionIdentity, reason: string): void {
    this.pending.push({ type: 'execution.skipped', runId: this.runId, ...id, reason });
  }

  /** A node the engine refused before running it (bypass or pins that cannot be honoured): a failure, not a skip. */
  refused(id: ExecutionIdentity, error: string, location: ErrorLocation): void {
    this.write({ type: 'execution.refused', runId: this.runId, ...id, error, errorLocation: location });
  }

  finished(status: Exclude<RunStatus, 'running' | 'interrupted'>, error: string | null): void {
    this.write({ type: 'run.finished', runId: this.runId, status, error });
  }

  private write(event: ProvenanceEvent): void {
    this.writeAll([event]);
  }

  private writeAll(events: ProvenanceEvent[], alsoInTransaction?: () => void): void {
    const all = this.pending.length > 0 ? [...this.pending, ...events] : events;
    this.db.recordAll(all, alsoInTransaction);
    this.pending = [];
  }

  private publishedEvents(executionId: string, manifests: ArtifactManifest[]): ProvenanceEvent[] {
    return manifests.map((manifest) => ({ type: 'artifact.published', executionId, manifest }));
  }
}
