import { existsSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { z } from 'zod';
import { diagnoseJsonl, locateDuplicateJsonl, startsWithJsonArray } from '../../engine/sdk/jsonl-diagnose.js';
import { loadTable } from '../../engine/sdk/loader.js';
import { NodeError } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { sqlString } from '../../engine/sdk/sql.js';

const params = z.object({
  path: z.string().min(1).meta({ title: 'File', description: 'A .jsonl / .json file, relative to the graph', widget: 'file' }),
  format: z.enum(['auto', 'jsonl', 'array']).default('auto').meta({ title: 'Format', description: 'JSON Lines, one JSON array, or detect' }),
  textField: z.string().min(1).default('text').meta({ title: 'Text field' }),
  idField: z.string().optional().meta({ title: 'Id field', description: 'Leave empty to number records as <source>:<n>' }),
  source: z
    .string()
    .optional()
    .meta({ title: 'Source name', description: 'Set: every record gets this source. Empty: a "source" field of the records is kept as it is, and records without one get the file name' }),
  maxRecordMB: z
    .number()
    .int()
    .min(1)
    .max(1024)
    .default(16)
    .meta({ title: 'Largest record (MB)', description: "DuckDB's maximum_object_size: it reads in buffers of twice this, so larger costs memory; raise it if an error names maximum_object_size" }),
});

/**
 * Nesting deeper than this is kept as JSON text instead of typed columns: DuckDB's schema detection
 * recurses per level: a 10,000-deep record crashed the process, and 64 typed levels took minutes to write
 * (engine/test/security-inputs).
 */
const MAX_JSON_DEPTH = 16;

export default defineNode({
  type: 'source.jsonl',
  version: 1,
  category: 'Sources',
  title: 'JSONL / JSON',
  description: 'Loads records from a JSON Lines file or a JSON array into a dataset (id, text, source, other fields kept).',
  inputs: {},
  outputs: { out: { kind: 'dataset', title: 'records' } },
  params,
  deterministic: true,
  inputFiles: (p) => [p.path],
  async run(ctx) {
    const { path, format, textField, idField, maxRecordMB } = ctx.params;
    const abs = ctx.resolvePath(path);
    if (!existsSync(abs)) throw new NodeError('file not found', { file: path });
    if (statSync(abs).size === 0) throw new NodeError('file is empty', { file: path, line: 1 });
    const source = ctx.params.source ?? basename(path, extname(path));
    const duckFormat = format === 'jsonl' ? 'newline_delimited' : format === 'array' ? 'array' : 'auto';
    const lines = format === 'jsonl' || (format === 'auto' && !startsWithJsonArray(abs));
    const conn = await ctx.duckdb();
    ctx.progress(0, undefined, 'reading');
    const rows = await loadTable(
      conn,
      {
        relation: `read_json(${sqlString(abs)}, format = '${duckFormat}', records = true, maximum_object_size = ${maxRecordMB * 1024 * 1024}, maximum_depth = ${MAX_JSON_DEPTH})`,
        file: path,
        textField,
        idField,
        source,
        keepSourceColumn: ctx.params.source === undefined,
        // Line numbers only mean something for JSON Lines; a detected JSON array is one document.
        diagnose: lines ? (required) => diagnoseJsonl(abs, required) : undefined,
        locateDuplicate: lines && idField ? (id) => locateDuplicateJsonl(abs, idField, id) : undefined,
        signal: ctx.signal,
      },
      ctx.output('out'),
    );
    ctx.progress(rows, rows, `${rows} records`);
    ctx.log(`loaded ${rows} records from ${path}`);
  },
  module: import.meta.url,
});
