/**
 * Schema migrations, applied in order; `PRAGMA user_version` holds how many have run.
 * Never edit a shipped migration: add a new one.
 */

/**
 * An execution's inputs and outputs are the same relation (execution, port, artifact) in two
 * directions. The text this returns is part of migration 1: changing it edits a shipped migration
 * (migrations.test.ts pins the text).
 */
function portLinkTable(name: string): string {
  return `  CREATE TABLE ${name} (
    execution_id TEXT NOT NULL REFERENCES executions(id),
    port TEXT NOT NULL,
    artifact_hash TEXT NOT NULL,
    PRIMARY KEY (execution_id, port)
  );
  CREATE INDEX ${name}_artifact ON ${name}(artifact_hash);`;
}

export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts TEXT NOT NULL,
    type TEXT NOT NULL,
    run_id TEXT,
    payload TEXT NOT NULL
  );
  CREATE TABLE graphs (
    hash TEXT PRIMARY KEY,
    name TEXT,
    doc TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    graph_hash TEXT REFERENCES graphs(hash),
    graph_path TEXT,
    trigger TEXT NOT NULL,
    mode TEXT NOT NULL,
    target TEXT,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    environment TEXT,
    error TEXT,
    pid INTEGER,
    host TEXT
  );
  CREATE INDEX runs_started ON runs(started_at);
  CREATE TABLE executions (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    node_id TEXT NOT NULL,
    node_type TEXT NOT NULL,
    node_version INTEGER NOT NULL,
    code_hash TEXT NOT NULL,
    params TEXT NOT NULL,
    cache_key TEXT NOT NULL,
    cached INTEGER NOT NULL DEFAULT 0,
    reused_execution_id TEXT,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    duration_ms REAL,
    error TEXT,
    error_location TEXT,
    logs TEXT,
    device TEXT
  );
  CREATE INDEX executions_run ON executions(run_id);
  CREATE INDEX executions_cache ON executions(cache_key, status);
  CREATE TABLE artifacts (
    hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    rows INTEGER,
    schema TEXT,
    manifest TEXT NOT NULL,
    producer_execution_id TEXT REFERENCES executions(id),
    created_at TEXT NOT NULL
  );
${portLinkTable('execution_inputs')}
${portLinkTable('execution_outputs')}
  CREATE TABLE execution_files (
    execution_id TEXT NOT NULL REFERENCES executions(id),
    path TEXT NOT NULL,
    hash TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (execution_id, path)
  );
  -- A memo of file content hashes keyed by size and mtime; not provenance, safe to drop.
  CREATE TABLE file_hashes (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  `,
  // 2: a node's history (plan baselines, previews, lineage) was a scan of every execution ever recorded.
  `CREATE INDEX executions_node ON executions(node_id, status, finished_at);`,
];
