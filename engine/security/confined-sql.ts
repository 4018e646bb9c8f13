import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { mkdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { NodeError } from '../sdk/node-error.js';
import { ALLOCATOR_BULK_FLUSH_THRESHOLD, ALLOCATOR_FLUSH_THRESHOLD, DEFAULT_MEMORY_LIMIT, sqlString, sqlStringList } from '../store/duckdb.js';

export interface ConfinedDuckDb {
  /** For callers that need several connections (shard-parallel writes); all share the confinement. */
  instance: DuckDBInstance;
  conn: DuckDBConnection;
  close(): void;
}

const withSlash = (d: string) => (d.endsWith('/') ? d : `${d}/`);

/**
 * A DuckDB instance of its own for user SQL, with file access limited to the node's input
 * artifacts (read) and its staging folders (write). DuckDB refuses to re-enable external access or
 * widen `allowed_directories` once access is disabled, so a query cannot undo this even with SET;
 * `lock_configuration` is left off because the deterministic writer must still set `threads`.
 * Extensions are never installed or loaded (no downloads, no native code from a graph).
 */
export async function openConfinedDuckDb(opts: {
  read: string[];
  write: string[];
  signal: AbortSignal;
  threads?: number;
  readFiles?: string[];
  /** Bulk frees above this go back to the OS at once (default ALLOCATOR_BULK_FLUSH_THRESHOLD). */
  bulkFlushThreshold?: string;
}): Promise<ConfinedDuckDb> {
  const spill = join(opts.write[0] as string, '.duckdb-spill');
  mkdirSync(spill, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(opts.threads ?? availableParallelism()),
    memory_limit: process.env.FORGE_DUCKDB_MEMORY ?? DEFAULT_MEMORY_LIMIT,
    temp_directory: spill,
    preserve_insertion_order: 'true',
    allocator_flush_threshold: ALLOCATOR_FLUSH_THRESHOLD,
    allocator_bulk_deallocation_flush_threshold: opts.bulkFlushThreshold ?? ALLOCATOR_BULK_FLUSH_THRESHOLD,
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    allow_community_extensions: 'false',
  });
  const conn = await instance.connect();
  const dirs = [...opts.read, ...opts.write, spill].map(withSlash);
  await conn.run(`SET allowed_directories = ${sqlStringList(dirs)}`);
  // Single files (a source's input), without the rest of their folder.
  if (opts.readFiles?.length) await conn.run(`SET allowed_paths = ${sqlStringList(opts.readFiles)}`);
  await conn.run('SET enable_external_access = false');
  const interrupt = () => conn.interrupt();
  opts.signal.addEventListener('abort', interrupt, { once: true });
  return {
    instance,
    conn,
    close() {
      opts.signal.removeEventListener('abort', interrupt);
      conn.closeSync();
      instance.closeSync();
      rmSync(spill, { recursive: true, force: true });
    },
  };
}

/**
 * Refuses anything but one read-only SELECT: several statements, COPY, ATTACH, INSTALL/LOAD,
 * PRAGMA, SET and every write are named in the error. Only the parser runs (statement extraction
 * and `json_serialize_sql`, which serialises SELECTs only): preparing a statement would already
 * bind it, and binding COPY or ATTACH touches the file system.
 */
export async function assertSingleSelect(conn: DuckDBConnection, sql: string, field: string): Promise<void> {
  let count: number;
  try {
    count = (await conn.extractStatements(sql)).count;
  } catch (err) {
    throw new NodeError(`cannot parse the SQL: ${firstLine((err as Error).message)}`, { field });
  }
  if (count !== 1) throw new NodeError(`only one SQL statement is allowed; found ${count} (remove the extra statements and semicolons)`, { field });
  const reader = await conn.runAndReadAll(`SELECT json_serialize_sql(${sqlString(sql)}::VARCHAR) AS j`);
  const parsed = JSON.parse(String(reader.getRowObjects()[0]?.j ?? '{}')) as { error?: boolean; error_type?: string; error_message?: string };
  if (!parsed.error) return;
  if (parsed.error_type === 'parser') throw new NodeError(`cannot parse the SQL: ${parsed.error_message ?? ''}`, { field });
  const keyword = /^\s*(?:--[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? 'this statement';
  throw new NodeError(`only a read-only SELECT query is allowed here, not ${keyword} (COPY, ATTACH, INSTALL/LOAD, PRAGMA, SET and writes are refused)`, { field });
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
