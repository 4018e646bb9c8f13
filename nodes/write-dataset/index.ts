import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { copyDeterministic, datasetSql } from '../../engine/sdk/dataset.js';
import { cleanDuckDbMessage } from '../../engine/sdk/loader.js';
import { NodeError, throwIfAborted } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { sqlString } from '../../engine/sdk/sql.js';
import { hashFile } from '../../engine/sdk/hash.js';

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
    const conn = await ctx.duckdb();
    const options = format === 'jsonl' ? 'FORMAT json' : 'FORMAT parquet, COMPRESSION zstd';
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
    const report = ctx.output('report');
    const metrics = { rows: ref.manifest.rows ?? 0, bytes, fileHash: hash, path };
    const file = report.file('metrics.json');
    writeFileSync(file, JSON.stringify(metrics, null, 2));
    for (const [k, v] of Object.entries(metrics)) report.setMeta(k, v);
    report.setRows(1);
    ctx.log(`wrote ${metrics.rows} rows (${statSync(abs).size} bytes) to ${path}`);
  },
  module: import.meta.url,
});
