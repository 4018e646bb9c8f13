import { existsSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { z } from 'zod';
import { loadTable } from '../../engine/sdk/loader.js';
import { NodeError } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { sqlString } from '../../engine/sdk/sql.js';

const params = z.object({
  path: z.string().min(1).meta({ title: 'File', widget: 'file' }),
  textField: z.string().min(1).default('text').meta({ title: 'Text column' }),
  idField: z.string().optional().meta({ title: 'Id column' }),
  source: z.string().optional().meta({ title: 'Source name' }),
});

export default defineNode({
  type: 'source.parquet',
  version: 1,
  category: 'Sources',
  title: 'Parquet',
  description: 'Loads a Parquet file into a dataset; the text column becomes `text`, other columns are kept.',
  inputs: {},
  outputs: { out: { kind: 'dataset', title: 'records' } },
  params,
  deterministic: true,
  inputFiles: (p) => [p.path],
  async run(ctx) {
    const { path, textField, idField } = ctx.params;
    const abs = ctx.resolvePath(path);
    if (!existsSync(abs)) throw new NodeError('file not found', { file: path });
    const conn = await ctx.duckdb();
    const rows = await loadTable(
      conn,
      { relation: `read_parquet(${sqlString(abs)})`, file: path, textField, idField, source: ctx.params.source ?? basename(path, extname(path)), signal: ctx.signal },
      ctx.output('out'),
    );
    ctx.progress(rows, rows, `${rows} records`);
  },
  module: import.meta.url,
});
