import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { copyDeterministic, datasetSql, parquetRows } from '../../engine/sdk/dataset.js';
import { cleanDuckDbMessage } from '../../engine/sdk/loader.js';
import { NodeError, throwIfAborted } from '../../engine/sdk/node-error.js';
import { defineNode, type ArtifactRef, type RunContext } from '../../engine/sdk/types.js';
import { freshTempBeside, sweepDeadTemps } from '../../engine/sdk/security.js';
import { sqlString, sqlStringList } from '../../engine/sdk/sql.js';
import { hashFile } from '../../engine/sdk/hash.js';
import { isDeferred, scanDeferred, type ScanPart } from '../../engine/sdk/deferred.js';
import { joinInOrder, type OrderedJoin } from '../../engine/sdk/ordered-join.js';

const params = z.object({
  path: z.string().min(1).meta({ title: 'Output file', description: 'Relative to the graph; .jsonl or .parquet', widget: 'save-file' }),
  format: z.enum(['jsonl', 'parquet']).default('jsonl').meta({ title: 'Format' }),
});

export default defineNode({
  type: 'sink.write',
  version: 1,
  category: 'Sinks',
  title: 'Write JSONL / Parquet',
  description: 'Writes a dataset to a file outside the workspace store (atomically: temp file, then rename) and reports rows, bytes and the file hash.',
  inputs: { in: { kind: 'dataset' } },
  outputs: { report: { kind: 'metrics' } },
  params,
  deterministic: true,
  // Each part of a deferred input is written on its own lane, then joined in order (see writeDeferred).
  takesDeferred: () => ['in'],
  async run(ctx) {
    const { path, format } = ctx.params;
    const abs = ctx.resolvePath(path);
    const tmp = `${abs}.forge-tmp-${process.pid}`;
    const ref = ctx.input('in');
    try {
      mkdirSync(dirname(abs), { recursive: true });
    } catch (err) {
      // e.g. a file where a folder of the path should be: say which param, not "internal error".
      throw new NodeError(`cannot create the folder of ${path}: ${(err as Error).message}`, { file: path, field: 'params.path' });
    }
    if (isDeferred(ref)) return writeDeferred(ctx, ref, abs, tmp);
    const conn = await ctx.duckdb();
    const options = format === 'jsonl' ? 'FORMAT json' : FILE_PARQUET;
    try {
      const copy = `COPY (SELECT * FROM ${datasetSql(ref)}) TO ${sqlString(tmp)} (${options})`;
      // JSON Lines has no row groups: with insertion order preserved, the parallel write gives the
      // same bytes as a single-threaded one. Parquet's row group cuts need the single thread.
      if (format === 'jsonl') await conn.run(copy);
      else await copyDeterministic(conn, copy);
      renameSync(tmp, abs);
    } catch (err) {
      rmSync(tmp, { force: true });
      throwIfAborted(ctx.signal);
      throw new NodeError(`cannot write: ${cleanDuckDbMessage((err as Error).message)}`, { file: path, field: 'params.path' });
    }
    const { hash, bytes } = await hashFile(abs);
    writeReport(ctx, { rows: ref.manifest.rows ?? 0, bytes, fileHash: hash, path });
  },
  module: import.meta.url,
});

type Ctx = RunContext<{ path: string; format: 'jsonl' | 'parquet' }>;

function writeReport(ctx: Ctx, metrics: { rows: number; bytes: number; fileHash: string; path: string }): void {
  const report = ctx.output('report');
  const file = report.file('metrics.json');
  writeFileSync(file, JSON.stringify(metrics, null, 2));
  for (const [k, v] of Object.entries(metrics)) report.setMeta(k, v);
  report.setRows(1);
  ctx.log(`wrote ${metrics.rows} rows (${metrics.bytes} bytes) to ${metrics.path}`);
}

/**
 * A deferred input (source → filters, not written) computed in this node's pass, with the bytes a
 * write of the stored dataset would give. One part (a whole file read on every thread) is written
 * straight to its file. Several parts (slices of lines, or a written dataset's shards) are each
 * written by their own lane, then joined in order: JSON Lines by appending each while hashing, as
 * soon as the parts before it are done; Parquet by one single-threaded COPY over the parts, whose
 * row groups then fall where a write of the stored dataset puts them.
 */
async function writeDeferred(ctx: Ctx, ref: ArtifactRef, abs: string, tmp: string): Promise<void> {
  const { path, format } = ctx.params;
  // Beside the file: a single part then becomes it by a rename, and a killed run's folder is swept.
  sweepDeadTemps(abs);
  const dir = freshTempBeside(abs);
  const partFile = (index: number) => join(dir, `part-${String(index).padStart(6, '0')}.${format}`);
  // JSON Lines parts are joined while the lanes make the next ones (see joinInOrder), one join per
  // pass: the parts of a fast pass that restarts on the general path are not the file's.
  const joinedFile = join(dir, 'joined.jsonl');
  const joining: { mode?: ScanPart['mode']; joined?: Promise<OrderedJoin> } = {};
  const joinerFor = (mode: ScanPart['mode']): Promise<OrderedJoin> => {
    if (joining.mode !== mode || !joining.joined) {
      void joining.joined?.then((old) => old.close());
      Object.assign(joining, { mode, joined: joinInOrder(joinedFile) });
    }
    return joining.joined as Promise<OrderedJoin>;
  };
  let lastMode: ScanPart['mode'] = 'fast';
  try {
    // Its errors name the chain's node types (and the file and line where a source found one).
    const result = await scanDeferred(ctx, ref, dir, async ({ index, parts, relation, conn, mode }) => {
      lastMode = mode;
      const copy = (options: string) => `COPY (SELECT * FROM ${relation}) TO ${sqlString(partFile(index))} (${options})`;
      if (format === 'jsonl') {
        const rows = Number((await conn.run(copy('FORMAT json'))).rowsChanged);
        if (parts > 1) (await joinerFor(mode)).ready(index, partFile(index));
        return rows;
      }
      if (parts > 1) return Number((await conn.run(copy(PART_PARQUET))).rowsChanged);
      await copyDeterministic(conn, copy(FILE_PARQUET));
      return parquetRows(conn, [partFile(index)]);
    });
    const parts = Array.from({ length: result.parts }, (_, i) => partFile(i));
    let written: { hash: string; bytes: number };
    try {
      if (result.parts === 1) {
        renameSync(partFile(0), abs);
        written = await hashFile(abs);
      } else if (format === 'jsonl') {
        written = await (await joinerFor(lastMode)).finish(result.parts);
        renameSync(joinedFile, abs);
      } else {
        const conn = await ctx.duckdb();
        await copyDeterministic(conn, `COPY (SELECT * FROM read_parquet(${sqlStringList(parts)})) TO ${sqlString(tmp)} (${FILE_PARQUET})`);
        renameSync(tmp, abs);
        written = await hashFile(abs);
      }
    } catch (err) {
      rmSync(tmp, { force: true });
      throwIfAborted(ctx.signal);
      throw new NodeError(`cannot write: ${cleanDuckDbMessage((err as Error).message)}`, { file: path, field: 'params.path' });
    }
    ctx.log(`computed ${result.stages.join(' → ')} → this node in one pass over ${result.parts} part(s); the intermediate datasets were not written`);
    writeReport(ctx, { rows: result.rows, bytes: written.bytes, fileHash: written.hash, path });
  } finally {
    if (joining.joined) await (await joining.joined).close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The file's options: as a write of the stored dataset uses them. */
const FILE_PARQUET = 'FORMAT parquet, COMPRESSION zstd';
/** Parts are read once more and rewritten: the cheapest zstd level. */
const PART_PARQUET = 'FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1';
