import { DuckDBInstance } from '@duckdb/node-api';
import { availableParallelism } from 'node:os';

/** DuckDB settings for one process (main thread or a worker); every execution opens its own connection. */
export interface DuckDBSettings {
  tempDirectory: string;
  /** DuckDB spills to tempDirectory beyond this, which keeps big datasets in bounded memory. */
  memoryLimit?: string;
  threads?: number;
}

let instance: Promise<DuckDBInstance> | undefined;

/**
 * DuckDB's memory limit when FORGE_DUCKDB_MEMORY is not set. It bounds only DuckDB's buffer manager
 * (beyond it DuckDB spills to the temp directory); Node, DuckDB's own code and its untracked
 * allocations (JSON parsing, Parquet page encoding) come on top, ~0.2-0.3 GiB. 768 MB keeps a 1 GB
 * load → filter → write around 0.75 GiB peak RSS, where 1 GB reached ~1 GiB (bench/stream-memory).
 */
export const DEFAULT_MEMORY_LIMIT = '768MB';

/** Freed memory a DuckDB thread may keep cached before it is handed back to the OS. */
export const ALLOCATOR_FLUSH_THRESHOLD = '16MB';
/** Bulk frees (a query's buffers at once) above this are handed back to the OS right away. */
export const ALLOCATOR_BULK_FLUSH_THRESHOLD = '32MB';
/**
 * The same for a deferred pass's lanes (engine/sdk/deferred.ts). Each lane frees a slice's read
 * buffers, tens of MB, every few hundred milliseconds; handed back to the OS, they are faulted in
 * afresh for the next slice, page by page. On the 1 GB stream-memory input that cost 2.5-3 s of
 * system time out of 8 s; kept (this threshold), the pass took 5 s at ~0.2 GiB more peak RSS.
 */
export const STREAMING_BULK_FLUSH_THRESHOLD = '256MB';

export function duckdbInstance(settings: DuckDBSettings): Promise<DuckDBInstance> {
  instance ??= DuckDBInstance.create(':memory:', {
    threads: String(settings.threads ?? availableParallelism()),
    memory_limit: settings.memoryLimit ?? process.env.FORGE_DUCKDB_MEMORY ?? DEFAULT_MEMORY_LIMIT,
    temp_directory: settings.tempDirectory,
    // Keeping row order is what makes dataset artifacts byte-identical across runs and machines.
    preserve_insertion_order: 'true',
    // DuckDB's allocator (jemalloc) keeps freed memory for reuse: by default up to 128 MiB per
    // thread, and bulk frees under 512 MiB are not returned at all. A 1 GB JSON load frees large
    // read buffers and Parquet row groups all the time, so that cache alone pushed peak RSS ~0.4 GiB
    // past the memory limit (bench/stream-memory). Returning memory early costs no measurable time.
    allocator_flush_threshold: ALLOCATOR_FLUSH_THRESHOLD,
    allocator_bulk_deallocation_flush_threshold: ALLOCATOR_BULK_FLUSH_THRESHOLD,
    allocator_background_threads: 'true',
  });
  return instance;
}

// Quoting lives in the SDK (engine/sdk/sql.ts); re-exported for engine code that imports it from here.
export { sqlIdent, sqlString, sqlStringList } from '../sdk/sql.js';

let shardWriter: Promise<DuckDBInstance> | undefined;

/** DuckDB's memory limit for the shard writer instance (FORGE_SHARD_WRITER_MEMORY overrides it). */
export const SHARD_WRITER_MEMORY_LIMIT = '256MB';

/**
 * A second, single-threaded DuckDB instance for writing dataset shards. A COPY that runs on one
 * thread always cuts row groups at the same rows, so a shard's bytes depend only on its rows; the
 * parallelism comes from running one COPY per shard on separate connections at once (each query
 * runs on its own libuv thread). Keeping this apart from the main instance means the main one keeps
 * all its threads for joins and scans while shards are written.
 */
export function shardWriterInstance(): Promise<DuckDBInstance> {
  shardWriter ??= DuckDBInstance.create(':memory:', {
    threads: '1',
    memory_limit: process.env.FORGE_SHARD_WRITER_MEMORY ?? SHARD_WRITER_MEMORY_LIMIT,
    preserve_insertion_order: 'true',
    allocator_flush_threshold: ALLOCATOR_FLUSH_THRESHOLD,
    allocator_bulk_deallocation_flush_threshold: ALLOCATOR_BULK_FLUSH_THRESHOLD,
  });
  return shardWriter;
}
