import { existsSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { z } from 'zod';
import { loadTable } from '../../engine/sdk/loader.js';
import { NodeError } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { sqlString } from '../../engine/store/duckdb.js';

const params = z.object({
  path: z.string().min(1).meta({ title: 'File', widget: 'file' }),
  delimiter: z.string().max(1).optional().meta({ title: 'Delimiter', description: 'Empty to detect' }),
  header: z.boolean().default(true).meta({ title: 'First row is a header' }),
  textField: z.string().min(1).default('text').meta({ title: 'Text column' }),
  idField: z.string().optional().meta({ title: 'Id column' }),
  source: z.string().optional().meta({ title: 'Source name' }),
});

export default defineNode({
  type: 'source.csv',
  version: 1,
  category: 'Sources',
  title: 'CSV',
  description: 'Loads a CSV/TSV file into a dataset; the text column becomes `text`, other columns are kept.',
  inputs: {},
  outputs: { out: { kind: 'dataset', title: 'records' } },
  params,
  deterministic: true,
  inputFiles: (p) => [p.path],
  async run(ctx) {
    const { path, delimiter, header, textField, idField } = ctx.params;
    const abs = ctx.resolvePath(path);
    if (!existsSync(abs)) throw new NodeError('file not found', { file: path });
    if (statSync(abs).size === 0) throw new NodeError('file is empty', { file: path, line: 1 });
    const options = [`header = ${header}`, delimiter ? `delim = ${sqlString(delimiter)}` : null, 'strict_mode = true'].filter(Boolean).join(', ');
    const conn = await ctx.duckdb();
    const rows = await loadTable(
      conn,
      { relation: `read_csv(${sqlString(abs)}, ${options})`, file: path, textField, idField, source: ctx.params.source ?? basename(path, extname(path)), signal: ctx.signal },
      ctx.output('out'),
    );
    ctx.progress(rows, rows, `${rows} records`);
  },
  module: import.meta.url,
});
