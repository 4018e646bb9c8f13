import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { availableParallelism } from 'node:os';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { shardWriterInstance, sqlIdent, sqlString } from '../store/duckdb.js';
import { CancelledError } from './node-error.js';

/** One Parquet shard to write: the rows of `query`, in its order, into `file`. */
export interface ShardJob {
  query: string;
  file: string;
  /**
   * Runs on the lane right before the COPY (e.g. cutting the input slice the query reads), with the
   * lane's connection: temp tables it creates there are visible to the query.
   */
  before?: (conn: DuckDBConnection) => Promise<void>;
  /** Runs after the COPY, whether it succeeded or not (e.g. removing that slice). */
  after?: () => void | Promise<void>;
  /**
   * Two outputs from one scan: `query` has a BOOLEAN column `column` (never NULL); rows where it is
   * true go to `file`, the others to `other`, both without that column.
   */
  split?: { column: string; other: string };
}

export interface ShardWritten {
  job: ShardJob;
  index: number;
  rows: number;
}

/** How many shards are written at once: FORGE_SHARD_WRITERS, else one per core. */
export function shardWriters(): number {
  const n = Number(process.env.FORGE_SHARD_WRITERS);
  return Number.isInteger(n) && n > 0 ? n : availableParallelism();
}

/**
 * Writes every job on the single-threaded shard writer instance, up to `shardWriters()` at once.
 * Each file appears under its final name only once complete (written beside it, then renamed), so a
 * killed process never leaves a truncated shard that a later run would take for a finished one.
 * `onWritten` runs after each shard, in completion order.
 */
export async function writeShardFiles(jobs: ShardJob[], parquetOptions: string, opts: { signal?: AbortSignal; onWritten?: (w: ShardWritten) => void; instance?: DuckDBInstance } = {}): Promise<void> {
  if (jobs.length === 0) return;
  // Jobs built from user SQL bring their own confined single-threaded instance (engine/security).
  const instance = opts.instance ?? (await shardWriterInstance());
  const lanes = Math.min(shardWriters(), jobs.length);
  const conns: DuckDBConnection[] = [];
  const interrupt = () => {
    for (const c of conns) c.interrupt();
  };
  opts.signal?.addEventListener('abort', interrupt, { once: true });
  let next = 0;
  const lane = async (conn: DuckDBConnection) => {
    while (next < jobs.length) {
      if (opts.signal?.aborted) throw new CancelledError();
      const index = next++;
      const job = jobs[index] as ShardJob;
      const partial = `${job.file}.partial`;
      try {
        await job.before?.(conn);
        if (job.split) await copySplit(conn, job, job.split, parquetOptions);
        else {
          await conn.run(`COPY (${job.query}) TO ${sqlString(partial)} (${parquetOptions})`);
          renameSync(partial, job.file);
        }
      } catch (err) {
        rmSync(partial, { force: true, recursive: true });
        if (job.split) rmSync(job.file, { force: true });
        throw err;
      } finally {
        await job.after?.();
      }
      const files = job.split ? [job.file, job.split.other] : [job.file];
      const meta = await conn.runAndReadAll(`SELECT coalesce(sum(num_rows), 0)::BIGINT AS n FROM parquet_file_metadata([${files.map(sqlString).join(', ')}])`);
      opts.onWritten?.({ job, index, rows: Number(meta.getRowObjects()[0]?.n ?? 0) });
    }
  };
  try {
    for (let i = 0; i < lanes; i++) conns.push(await instance.connect());
    // Stop handing out jobs as soon as one lane fails; the others finish their current shard.
    const results = await Promise.allSettled(
      conns.map((c) =>
        lane(c).catch((err: unknown) => {
          next = jobs.length;
          throw err;
        }),
      ),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } finally {
    opts.signal?.removeEventListener('abort', interrupt);
    for (const c of conns) c.closeSync();
  }
}

/**
 * One scan, two shards: a COPY partitioned by the job's BOOLEAN column writes each side's rows in
 * order on the one thread, so each file's bytes depend only on the input shard. A side with no rows
 * gets an empty file that still has the schema. `other` is moved into place before `file`, whose
 * presence marks the job done.
 */
async function copySplit(conn: DuckDBConnection, job: ShardJob, split: { column: string; other: string }, parquetOptions: string): Promise<void> {
  const dir = `${job.file}.partial`;
  rmSync(dir, { recursive: true, force: true });
  await conn.run(`COPY (${job.query}) TO ${sqlString(dir)} (${parquetOptions}, PARTITION_BY (${sqlIdent(split.column)}))`);
  for (const [value, target] of [
    ['false', split.other],
    ['true', job.file],
  ] as const) {
    const side = join(dir, `${split.column}=${value}`);
    const files = existsSync(side) ? readdirSync(side) : [];
    // One thread and two partitions keep one file per side; anything else would lose row order.
    if (files.length > 1) throw new Error(`partitioned shard write left ${files.length} files for ${value} rows in ${side}`);
    if (files[0] === undefined) {
      await conn.run(`COPY (SELECT * EXCLUDE (${sqlIdent(split.column)}) FROM (${job.query}) LIMIT 0) TO ${sqlString(`${target}.empty`)} (${parquetOptions})`);
      renameSync(`${target}.empty`, target);
    } else renameSync(join(side, files[0]), target);
  }
  rmSync(dir, { recursive: true, force: true });
}
