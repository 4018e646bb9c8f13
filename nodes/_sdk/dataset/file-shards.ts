import type { DuckDBConnection } from '@duckdb/node-api';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeShards, PARQUET_OPTIONS, SHARD_DIR, shardFile } from '../../../engine/sdk/dataset.js';
import { canonicalJson, sha256Hex } from '../../../engine/sdk/hash.js';
import { shardWriters, writeShardFiles, type ShardJob } from '../../../engine/sdk/shard-writer.js';
import { linkOrCopy, publishToCache, ranges } from '../../../engine/sdk/shards.js';
import { NodeError } from '../../../engine/sdk/node-error.js';
import type { ColumnInfo, OutputBuilder, PortSpec, RunContext } from '../../../engine/sdk/types.js';
import { expandPath, relPath } from '../files.js';

/** One input file of a file-per-shard source: output shard number `index` holds its rows. */
/**
 * The work units of a file source: every file `path` (a file, folder or glob) expands to, each
 * checked against the file-access policy; none matching is the node's error on `path`.
 */
export function fileUnits(ctx: Pick<RunContext<unknown>, 'baseDir' | 'resolvePath'>, path: string, include: string, what: string): FileUnit[] {
  const files = expandPath(path, ctx.baseDir, include);
  if (files.length === 0) throw new NodeError(`no ${what} files match ${path}`, { file: path, field: 'path' });
  return files.map((abs, index) => ({ index, abs: ctx.resolvePath(abs), file: relPath(ctx.baseDir, abs) }));
}

/** The params every file-per-shard source has: which files to read. */
export interface FileSourceParams {
  path: string;
  include: string;
}

/**
 * What a file-per-shard source declares besides its params and run: no inputs, one dataset output
 * `out`, deterministic, and the files it reads, so editing one reruns it.
 */
export function fileShardSource(outputTitle: string): {
  inputs: Record<string, PortSpec>;
  outputs: Record<string, PortSpec>;
  deterministic: boolean;
  inputFiles(p: FileSourceParams, baseDir: string): string[];
} {
  return {
    inputs: {},
    outputs: { out: { kind: 'dataset', title: outputTitle } },
    deterministic: true,
    inputFiles: (p, baseDir) => expandPath(p.path, baseDir, p.include),
  };
}

/** The start of a file source's run: its units (see `fileUnits`), a DuckDB connection and the output. */
export async function startFileShards(ctx: RunContext<FileSourceParams>, what: string): Promise<{ units: FileUnit[]; conn: DuckDBConnection; out: OutputBuilder }> {
  const units = fileUnits(ctx, ctx.params.path, ctx.params.include, what);
  return { units, conn: await ctx.duckdb(), out: ctx.output('out') };
}

export interface FileUnit {
  index: number;
  /** As shown to users and stored in rows (relative to the graph folder). */
  file: string;
  /** Absolute path, already checked by ctx.resolvePath. */
  abs: string;
}

/** The rows of one file as a query the single-threaded shard writer can COPY, plus what to delete afterwards. */
export interface PreparedUnit {
  query: string;
  cleanup?: () => void;
}

export interface FileShardsResult {
  rows: number;
  schema: ColumnInfo[];
  /** Unit indexes this execution wrote; the others came from the shard cache. */
  executed: number[];
  reused: number[];
}

/**
 * Writes one output shard per input file, so a source over thousands of Common Crawl or FineWeb
 * files is resumable file by file: each finished shard is kept in the shard cache under (node key,
 * file, index), and a rerun after a kill links those back and prepares only the files not done.
 * Files are prepared and written in batches of `shardWriters()` so scratch space stays bounded to
 * one batch, and each shard is written single-threaded so its bytes depend only on its rows.
 */
export async function writeFileShards(
  ctx: RunContext<unknown>,
  conn: DuckDBConnection,
  out: OutputBuilder,
  units: FileUnit[],
  prepare: (unit: FileUnit) => Promise<PreparedUnit>,
): Promise<FileShardsResult> {
  const dir = join(out.dir, SHARD_DIR);
  mkdirSync(dir, { recursive: true });
  const cache = ctx.shardCache;
  if (cache) mkdirSync(cache.dir, { recursive: true });
  const cachePath = (u: FileUnit) => (cache ? join(cache.dir, `${sha256Hex(canonicalJson({ v: 'forge-file-shard-v1', node: cache.nodeKey, file: u.file, index: u.index }))}.parquet`) : undefined);

  const reused: number[] = [];
  const todo: FileUnit[] = [];
  for (const u of units) {
    const cached = cachePath(u);
    if (cached && existsSync(cached)) {
      linkOrCopy(cached, shardFile(dir, u.index));
      reused.push(u.index);
    } else todo.push(u);
  }

  const total = units.length;
  let done = reused.length;
  let rows = 0;
  const t0 = performance.now();
  ctx.progress(done, total, `${done}/${total} files`);
  const batch = Math.max(1, shardWriters());
  for (let start = 0; start < todo.length; start += batch) {
    const slice = todo.slice(start, start + batch);
    const prepared: { unit: FileUnit; job: ShardJob; cleanup?: () => void }[] = [];
    try {
      for (const unit of slice) {
        const p = await prepare(unit);
        prepared.push({ unit, job: { query: p.query, file: shardFile(dir, unit.index) }, cleanup: p.cleanup });
      }
      await writeShardFiles(
        prepared.map((p) => p.job),
        PARQUET_OPTIONS,
        {
          signal: ctx.signal,
          onWritten: ({ index, rows: n }) => {
            const p = prepared[index];
            if (!p) return;
            const cached = cachePath(p.unit);
            if (cached) publishToCache(p.job.file, cached);
            rows += n;
            done++;
            const rate = rows / Math.max(1e-3, (performance.now() - t0) / 1000);
            ctx.progress(done, total, `${done}/${total} files · ${Math.round(rate).toLocaleString('en-US')} rows/s`);
          },
        },
      );
    } finally {
      for (const p of prepared) p.cleanup?.();
    }
  }

  const described = await describeShards(conn, dir, out);
  const executed = todo.map((u) => u.index);
  ctx.log(`files: ${executed.length} of ${total} read${reused.length > 0 ? `, ${reused.length} reused from the shard cache (${ranges(reused)})` : ''}`);
  return { ...described, executed, reused };
}
