import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { existsSync, linkSync, mkdirSync, renameSync, rmSync, copyFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { sqlString } from './sql.js';
import { hashValue, stripPrefix } from '../util/hash.js';
import { assertWritten, describeShards, PARQUET_OPTIONS, SHARD_DIR, shardFile } from './dataset.js';
import { writeShardFiles, type ShardJob } from './shard-writer.js';
import type { ArtifactRef, ColumnInfo, RunContext, ShardCacheSlot } from './types.js';

/** One input shard: its Parquet file and content hash (from the artifact manifest). */
export interface InputShard {
  index: number;
  file: string;
  hash: string;
}

export function inputShards(ref: ArtifactRef): InputShard[] {
  if (ref.kind !== 'dataset') throw new Error(`expected a dataset artifact, got ${ref.kind}`);
  assertWritten(ref);
  const files = ref.manifest.files.filter((f) => f.path.startsWith(`${SHARD_DIR}/`) && f.path.endsWith('.parquet'));
  if (files.length === 0) throw new Error(`dataset ${ref.hash} has no shards`);
  return files.map((f, index) => ({ index, file: join(ref.dir, f.path), hash: f.hash }));
}

/** A DuckDB table expression reading one shard. */
export function shardSql(shard: InputShard): string {
  return `read_parquet(${sqlString(shard.file)})`;
}

/**
 * A row-wise split of each input shard between two ports in one scan: `query(shard)` gives the
 * shard's rows plus a BOOLEAN `column` (never NULL) that sends a row to `ports[0]` when true and to
 * `ports[1]` otherwise; the column itself is not written.
 */
export interface ShardSplit {
  query: (shard: InputShard) => string;
  column: string;
  ports: readonly [string, string];
}

/** Says which side a row goes to while it is written; no dataset column is named like it. */
const SPLIT_COLUMN = '__forge_keep';

/**
 * The common ShardSplit: rows where `condition` (a SQL boolean over the shard's columns, NULL-safe)
 * holds go to `ports[0]`, the others to `ports[1]`.
 */
export function splitWhere(condition: string, ports: readonly [string, string]): ShardSplit {
  return { query: (shard) => `SELECT *, ${condition} AS ${SPLIT_COLUMN} FROM ${shardSql(shard)}`, column: SPLIT_COLUMN, ports };
}

function isSplit(q: Record<string, (shard: InputShard) => string> | ShardSplit): q is ShardSplit {
  return typeof q.query === 'function' && typeof q.column === 'string' && Array.isArray(q.ports);
}

/**
 * Work in JavaScript before one shard's query runs (e.g. scoring its rows with a model), on the
 * connection that then runs the query: a temp table created there can be joined by it. Returns the
 * cleanup, which runs after the shard is written or has failed. Runs only for shards not in the
 * shard cache, once per (shard, port) query.
 */
export type ShardPrepare = (shard: InputShard, conn: DuckDBConnection) => Promise<() => Promise<void>>;

export interface ShardMapResult {
  outputs: Record<string, { rows: number; schema: ColumnInfo[] }>;
  shards: number;
  /** Input shard indexes computed by this execution (the others came from the shard cache). */
  executed: number[];
  reused: number[];
}

/**
 * Runs a row-wise node one unit per input shard: for each output port, `queries[port](shard)`
 * gives the rows of that port's shard number i from input shard i (so outputs keep the input's
 * shard order and count, empty shards included); a ShardSplit fills two ports from one scan. Shards are written in parallel, each
 * deterministically; finished shards go to the shard cache under (node key, port, input shard hash),
 * so rerunning a node that was killed half-way writes only the shards it had not finished. Progress
 * reports shards done / total and rows/s; a log line records which shards ran and which were reused.
 * A node whose rows need JavaScript work (a model) does it shard by shard in `prepare`.
 */
export async function mapShards(
  ctx: RunContext<unknown>,
  conn: DuckDBConnection,
  input: ArtifactRef,
  queries: Record<string, (shard: InputShard) => string> | ShardSplit,
  /** A single-threaded instance to write on; user SQL must pass a confined one (engine/sdk/security). */
  writer?: DuckDBInstance,
  prepare?: ShardPrepare,
): Promise<ShardMapResult> {
  const all = inputShards(input);
  const subset = ctx.shardSubset ? new Set(ctx.shardSubset) : undefined;
  // A shard job computes its shards for the cache only; without one its work would be lost.
  if (subset && !ctx.shardCache) throw new Error(`${ctx.node.type} got a shard subset without a shard cache`);
  const shards = subset ? all.filter((s) => subset.has(s.index)) : all;
  const split = isSplit(queries) ? queries : undefined;
  const ports = split ? [...split.ports] : Object.keys(queries);
  const dirs = Object.fromEntries(ports.map((p) => [p, join(ctx.output(p).dir, SHARD_DIR)]));
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  const cache = ctx.shardCache;
  if (cache) mkdirSync(cache.dir, { recursive: true });
  const cachePath = (port: string, shard: InputShard) => (cache ? shardCachePath(cache, port, shard.hash) : undefined);

  const jobs: (ShardJob & { shard: InputShard; cached?: string; cachedOther?: string })[] = [];
  const reused = new Set<number>();
  const pending = new Set<number>();
  for (const shard of shards) {
    const target = (port: string) => shardFile(dirs[port] as string, shard.index);
    if (split) {
      const [yes, no] = split.ports;
      const cached = cachePath(yes, shard);
      const cachedOther = cachePath(no, shard);
      // Both sides come from one scan: a shard is reused only when both are cached.
      if (cached && cachedOther && existsSync(cached) && existsSync(cachedOther)) {
        linkOrCopy(cached, target(yes));
        linkOrCopy(cachedOther, target(no));
        continue;
      }
      pending.add(shard.index);
      jobs.push({ query: split.query(shard), file: target(yes), split: { column: split.column, other: target(no) }, shard, cached, cachedOther });
      continue;
    }
    for (const port of ports) {
      const cached = cachePath(port, shard);
      if (cached && existsSync(cached)) {
        linkOrCopy(cached, target(port));
        continue;
      }
      pending.add(shard.index);
      jobs.push({ query: (queries as Record<string, (s: InputShard) => string>)[port]!(shard), file: target(port), shard, cached });
    }
  }
  for (const shard of shards) if (!pending.has(shard.index)) reused.add(shard.index);
  if (prepare)
    for (const job of jobs) {
      let cleanup: (() => Promise<void>) | undefined;
      job.before = async (c) => {
        cleanup = await prepare(job.shard, c);
      };
      job.after = async () => {
        await cleanup?.();
      };
    }

  const total = shards.length;
  let done = reused.size;
  let rows = 0;
  const remaining = new Map<number, number>();
  for (const j of jobs) remaining.set(j.shard.index, (remaining.get(j.shard.index) ?? 0) + 1);
  const t0 = performance.now();
  ctx.progress(done, total, `${done}/${total} shards`);
  await writeShardFiles(jobs, PARQUET_OPTIONS, {
    instance: writer,
    signal: ctx.signal,
    onWritten: ({ job, rows: n }) => {
      const j = job as (typeof jobs)[number];
      if (j.cachedOther && j.split) publishToCache(j.split.other, j.cachedOther);
      if (j.cached) publishToCache(j.file, j.cached);
      rows += n;
      const left = (remaining.get(j.shard.index) ?? 1) - 1;
      remaining.set(j.shard.index, left);
      if (left === 0) {
        done++;
        const rate = rows / Math.max(1e-3, (performance.now() - t0) / 1000);
        ctx.progress(done, total, `${done}/${total} shards · ${Math.round(rate).toLocaleString('en-US')} rows/s`);
      }
    },
  });

  const outputs: ShardMapResult['outputs'] = {};
  for (const port of ports) outputs[port] = await describeShards(conn, dirs[port] as string, ctx.output(port));
  const executed = [...pending].sort((a, b) => a - b);
  const reusedList = [...reused].sort((a, b) => a - b);
  if (subset)
    ctx.log(`shard job: computed input shards ${executed.length > 0 ? ranges(executed) : 'none'} of ${all.length}${reusedList.length > 0 ? `; ${ranges(reusedList)} already in the shard cache` : ''}`);
  else
    ctx.log(
      `shards: ${executed.length} of ${total} executed${reusedList.length > 0 ? `, ${reusedList.length} reused from the shard cache (${ranges(reusedList)})` : ''}${executed.length > 0 && reusedList.length > 0 ? `; executed ${ranges(executed)}` : ''}`,
    );
  return { outputs, shards: total, executed, reused: reusedList };
}

/** Where the shard cache keeps output `port` computed from the input shard with content hash `inputShardHash`. */
export function shardCachePath(cache: ShardCacheSlot, port: string, inputShardHash: string): string {
  return join(cache.dir, `${stripPrefix(hashValue('forge-shard-v1', { node: cache.nodeKey, port, input: inputShardHash }))}.parquet`);
}

/** Hard links cost no space and no time; across filesystems fall back to a copy. */
export function linkOrCopy(from: string, to: string): void {
  rmSync(to, { force: true });
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

/** Adds a finished shard to the cache under its final name in one rename, so readers never see half a file. */
export function publishToCache(file: string, cached: string): void {
  if (existsSync(cached)) return;
  // Workers on several machines may write the same shard (a redelivered job): pids can collide there, random names cannot.
  const tmp = `${cached}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
  linkOrCopy(file, tmp);
  renameSync(tmp, cached);
}

/** `0-3, 7, 9-12`: compact shard lists for logs. */
export function ranges(sorted: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}
