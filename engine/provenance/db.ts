import Database from 'better-sqlite3';
import { hostname } from 'node:os';
import { MIGRATIONS } from './migrations.js';
import type { ProvenanceEvent } from './events.js';
import { processAlive } from '../util/process.js';

type Db = Database.Database;

/** The provenance database cannot be used (corrupt, or written by a newer engine): a clear message, no stack. */
export class ProvenanceDbError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProvenanceDbError';
  }
}

/**
 * The provenance database: a real SQLite file in WAL mode, shared safely by the CLI and a running
 * server. Writes go through `record`, which appends the event and updates the query tables atomically.
 */
export class ProvenanceDb {
  readonly db: Db;
  private readonly insertEvent: Database.Statement;
  private readonly appliers: Record<ProvenanceEvent['type'], (e: never, ts: string) => void>;
  private readonly writeEvents: Database.Transaction<(events: readonly ProvenanceEvent[], ts: string, alsoInTransaction?: () => void) => void>;
  // Compiling a statement costs more than running a small one; queries are fixed SQL, so the cache stays small.
  private readonly statements = new Map<string, Database.Statement>();

  constructor(path: string) {
    try {
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      // NORMAL is durable across process crashes in WAL mode; only power loss can lose the last commits.
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 10000');
      this.db.pragma('foreign_keys = ON');
      this.migrate();
    } catch (err) {
      if (err instanceof ProvenanceDbError) throw err;
      throw new ProvenanceDbError(
        `${path} is not a readable Forge provenance database (${(err as Error).message}). Move it aside to start a fresh history (artifacts in .forge/artifacts stay usable), or restore it from a backup.`,
      );
    }
    this.insertEvent = this.db.prepare('INSERT INTO events (ts, type, run_id, payload) VALUES (?, ?, ?, ?)');
    this.appliers = this.buildAppliers();
    this.writeEvents = this.db.transaction((events: readonly ProvenanceEvent[], ts: string, alsoInTransaction?: () => void) => {
      for (const event of events) {
        this.insertEvent.run(ts, event.type, 'runId' in event ? event.runId : null, JSON.stringify(event));
        this.apply(event, ts);
      }
      alsoInTransaction?.();
    });
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  private migrate(): void {
    const current = this.schemaVersion;
    if (current > MIGRATIONS.length) {
      throw new ProvenanceDbError(`provenance database schema version ${current} is newer than this engine supports (${MIGRATIONS.length}); upgrade Forge`);
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.db
        .transaction(() => {
          this.db.exec(MIGRATIONS[v] as string);
          this.db.pragma(`user_version = ${v + 1}`);
        })
        .immediate();
    }
  }

  /** A prepared statement for fixed SQL, compiled once per connection. */
  stmt(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  record(event: ProvenanceEvent): void {
    this.recordAll([event]);
  }

  /**
   * Appends several events in one transaction: all of them or none (an execution's published
   * artifacts together with its `execution.finished`), for one commit instead of one per event.
   */
  recordAll(events: readonly ProvenanceEvent[], alsoInTransaction?: () => void): void {
    if (events.length === 0 && !alsoInTransaction) return;
    this.writeEvents.immediate(events, new Date().toISOString(), alsoInTransaction);
  }

  private apply(event: ProvenanceEvent, ts: string): void {
    (this.appliers[event.type] as (e: ProvenanceEvent, ts: string) => void)(event, ts);
  }

  /** Drops the query tables' rows and replays the event log into them. */
  rebuildFromEvents(): number {
    const rows = this.db.prepare('SELECT ts, payload FROM events ORDER BY seq').all() as { ts: string; payload: string }[];
    this.db
      .transaction(() => {
        for (const t of ['execution_files', 'execution_outputs', 'execution_inputs', 'artifacts', 'executions', 'runs', 'graphs']) {
          this.db.exec(`DELETE FROM ${t}`);
        }
        for (const r of rows) this.apply(JSON.parse(r.payload) as ProvenanceEvent, r.ts);
      })
      .immediate();
    return rows.length;
  }

  /** SQLite's integrity check; never throws (a damaged file reports its error as the result). */
  integrityCheck(): string {
    try {
      return String(this.db.pragma('integrity_check', { simple: true }));
    } catch (err) {
      return `error: ${(err as Error).message}`;
    }
  }

  /**
   * Runs left `running` by a process that no longer exists were interrupted (crash, SIGKILL,
   * power loss): mark them so, with their unfinished executions.
   */
  markInterruptedRuns(): string[] {
    const host = hostname();
    const running = this.db.prepare("SELECT id, pid, host FROM runs WHERE status = 'running'").all() as { id: string; pid: number; host: string }[];
    const dead = running.filter((r) => r.host !== host || !processAlive(r.pid));
    for (const r of dead) this.record({ type: 'run.interrupted', runId: r.id, reason: `process ${r.pid} on ${r.host} is gone` });
    return dead.map((r) => r.id);
  }

  liveExecutionIds(): Set<string> {
    const rows = this.db.prepare("SELECT e.id FROM executions e JOIN runs r ON r.id = e.run_id WHERE e.status = 'running' AND r.status = 'running'").all() as { id: string }[];
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Asked per staging folder at the moment it is looked at (not from a snapshot): an execution is
   * recorded as started before its staging folder exists, so a folder created by another live
   * process after a sweep began is always seen as live.
   */
  isExecutionLive(executionId: string): boolean {
    return this.db.prepare("SELECT 1 FROM executions e JOIN runs r ON r.id = e.run_id WHERE e.id = ? AND e.status = 'running' AND r.status = 'running'").get(executionId) !== undefined;
  }

  close(): void {
    this.db.close();
  }

  private buildAppliers(): Record<ProvenanceEvent['type'], (e: never, ts: string) => void> {
    const db = this.db;
    const insGraph = db.prepare('INSERT OR IGNORE INTO graphs (hash, name, doc, created_at) VALUES (?, ?, ?, ?)');
    const insRun = db.prepare('INSERT INTO runs (id, graph_hash, graph_path, trigger, mode, target, status, started_at, environment, pid, host) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    const insExec = db.prepare(
      `INSERT INTO executions (id, run_id, node_id, node_type, node_version, code_hash, params, cache_key, cached, reused_execution_id, status, started_at, finished_at, duration_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insInput = db.prepare('INSERT OR REPLACE INTO execution_inputs (execution_id, port, artifact_hash) VALUES (?, ?, ?)');
    const insOutput = db.prepare('INSERT OR REPLACE INTO execution_outputs (execution_id, port, artifact_hash) VALUES (?, ?, ?)');
    const insFile = db.prepare('INSERT OR REPLACE INTO execution_files (execution_id, path, hash, bytes) VALUES (?, ?, ?, ?)');
    const insArtifact = db.prepare('INSERT OR IGNORE INTO artifacts (hash, kind, bytes, rows, schema, manifest, producer_execution_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const finishExec = db.prepare('UPDATE executions SET status = ?, finished_at = ?, duration_ms = ?, error = ?, error_location = ?, logs = ?, device = ? WHERE id = ?');
    const finishRun = db.prepare('UPDATE runs SET status = ?, finished_at = ?, error = ? WHERE id = ?');
    const interruptExecs = db.prepare("UPDATE executions SET status = 'interrupted', finished_at = ? WHERE run_id = ? AND status = 'running'");

    return {
      'graph.saved': (e: Extract<ProvenanceEvent, { type: 'graph.saved' }>, ts) => {
        insGraph.run(e.hash, e.name, e.doc, ts);
      },
      'run.started': (e: Extract<ProvenanceEvent, { type: 'run.started' }>, ts) => {
        insRun.run(e.runId, e.graphHash, e.graphPath, e.trigger, e.mode, e.target, 'running', ts, JSON.stringify(e.environment), e.pid, e.host);
      },
      'execution.started': (e: Extract<ProvenanceEvent, { type: 'execution.started' }>, ts) => {
        insExec.run(e.executionId, e.runId, e.nodeId, e.nodeType, e.nodeVersion, e.codeHash, JSON.stringify(e.params), e.cacheKey, 0, null, 'running', ts, null, null);
        for (const i of e.inputs) insInput.run(e.executionId, i.port, i.hash);
        for (const f of e.files) insFile.run(e.executionId, f.path, f.hash, f.bytes);
      },
      'execution.cached': (e: Extract<ProvenanceEvent, { type: 'execution.cached' }>, ts) => {
        insExec.run(e.executionId, e.runId, e.nodeId, e.nodeType, e.nodeVersion, e.codeHash, JSON.stringify(e.params), e.cacheKey, 1, e.reusedExecutionId, 'succeeded', ts, ts, 0);
        for (const i of e.inputs) insInput.run(e.executionId, i.port, i.hash);
        for (const f of e.files) insFile.run(e.executionId, f.path, f.hash, f.bytes);
        for (const o of e.outputs) insOutput.run(e.executionId, o.port, o.hash);
      },
      'artifact.published': (e: Extract<ProvenanceEvent, { type: 'artifact.published' }>, ts) => {
        const m = e.manifest;
        insArtifact.run(m.hash, m.kind, m.bytes, m.rows ?? null, m.schema ? JSON.stringify(m.schema) : null, JSON.stringify(m), e.executionId, ts);
      },
      'execution.finished': (e: Extract<ProvenanceEvent, { type: 'execution.finished' }>, ts) => {
        finishExec.run(e.status, ts, e.durationMs, e.error, e.errorLocation ? JSON.stringify(e.errorLocation) : null, e.logs.length > 0 ? e.logs.join('\n') : null, e.device, e.executionId);
        for (const o of e.outputs) insOutput.run(e.executionId, o.port, o.hash);
      },
      'execution.skipped': (e: Extract<ProvenanceEvent, { type: 'execution.skipped' }>, ts) => {
        insExec.run(e.executionId, e.runId, e.nodeId, e.nodeType, e.nodeVersion, '', '{}', '', 0, null, 'skipped', ts, ts, 0);
        finishExec.run('skipped', ts, 0, e.reason, null, null, null, e.executionId);
      },
      'execution.refused': (e: Extract<ProvenanceEvent, { type: 'execution.refused' }>, ts) => {
        insExec.run(e.executionId, e.runId, e.nodeId, e.nodeType, e.nodeVersion, '', '{}', '', 0, null, 'failed', ts, ts, 0);
        finishExec.run('failed', ts, 0, e.error, JSON.stringify(e.errorLocation), null, null, e.executionId);
      },
      'run.finished': (e: Extract<ProvenanceEvent, { type: 'run.finished' }>, ts) => {
        finishRun.run(e.status, ts, e.error, e.runId);
      },
      'run.interrupted': (e: Extract<ProvenanceEvent, { type: 'run.interrupted' }>, ts) => {
        interruptExecs.run(ts, e.runId);
        finishRun.run('interrupted', ts, e.reason, e.runId);
      },
    };
  }
}
