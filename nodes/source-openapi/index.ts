import { extname } from 'node:path';
import { z } from 'zod';
import { NodeError } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { tokenizerParam } from '../_sdk/dataset/counting.js';
import { parseJsonFile, parseYamlFile, readText, relPath } from '../_sdk/files.js';
import { columns, writeRecords, type Cell } from '../_sdk/dataset/records.js';
import { corpusInputFiles, openCorpus } from '../_sdk/file-corpus.js';
import { parseSpec, SpecError } from './openapi.js';

const params = z.object({
  path: z.string().min(1).meta({ title: 'Spec file or folder', description: 'An OpenAPI 3.x / Swagger 2.0 file (JSON or YAML), a folder of them, or a glob', widget: 'file' }),
  include: z.string().min(1).default('**/*.{json,yaml,yml}').meta({ title: 'Files in a folder (glob)' }),
  source: z.string().min(1).default('openapi').meta({ title: 'Source name' }),
  tokenizer: tokenizerParam,
  schemaDepth: z.number().int().min(0).max(10).default(3).meta({ title: 'Schema depth', description: 'Nested schemas are expanded this deep, then named' }),
  maxSchemaChars: z.number().int().min(40).default(2000).meta({ title: 'Longest schema (chars)' }),
  skipInvalid: z.boolean().default(false).meta({ title: 'Skip files that are not OpenAPI', description: 'Off: such a file is an error naming it' }),
});

const COLUMNS = columns({
  id: 'VARCHAR',
  text: 'VARCHAR',
  source: 'VARCHAR',
  api: 'VARCHAR',
  api_version: 'VARCHAR',
  method: 'VARCHAR',
  path: 'VARCHAR',
  operation_id: 'VARCHAR',
  tags: 'VARCHAR',
  summary: 'VARCHAR',
  file: 'VARCHAR',
  tokens: 'BIGINT',
});

export default defineNode({
  type: 'source.openapi',
  version: 1,
  category: 'Sources',
  title: 'OpenAPI specs',
  description:
    'Loads OpenAPI 3.x / Swagger 2.0 specs (a file, a folder or a glob; JSON, or YAML when js-yaml is available) as API documentation: one document per operation with method, path, summary, parameters and schemas. Reports documents and tokens per API.',
  inputs: {},
  outputs: { out: { kind: 'dataset', title: 'operations' } },
  params,
  deterministic: true,
  inputFiles: (p, baseDir) => corpusInputFiles(p, baseDir),
  async run(ctx) {
    const p = ctx.params;
    const { files, counts } = openCorpus(p, ctx.baseDir, 'spec files');
    const rows: Cell[][] = [];
    let skipped = 0;
    for (const [i, abs] of files.entries()) {
      const file = relPath(ctx.baseDir, abs);
      const text = readText(abs);
      const ext = extname(abs).toLowerCase();
      let doc: unknown;
      try {
        doc = ext === '.yaml' || ext === '.yml' ? await parseYamlFile(text, file) : parseJsonFile(text, file);
      } catch (err) {
        if (p.skipInvalid && err instanceof NodeError) {
          ctx.log(`skipped ${file}: ${err.message}`, 'warn');
          skipped++;
          continue;
        }
        throw err;
      }
      let api;
      try {
        api = parseSpec(doc, { schemaDepth: p.schemaDepth, maxSchemaChars: p.maxSchemaChars });
      } catch (err) {
        if (!(err instanceof SpecError)) throw err;
        if (p.skipInvalid) {
          ctx.log(`skipped ${file}: ${err.message}`, 'warn');
          skipped++;
          continue;
        }
        throw new NodeError(err.message, { file, line: 1, field: err.field });
      }
      if (api.operations.length === 0) ctx.log(`${file}: no operations under "paths"`, 'warn');
      for (const op of api.operations) {
        const tokens = counts.add(api.title, op.text);
        rows.push([`${file}#${op.method} ${op.path}`, op.text, p.source, api.title, api.apiVersion, op.method, op.path, op.operationId, op.tags.join(','), op.summary, file, tokens]);
      }
      ctx.progress(i + 1, files.length, file);
    }
    if (rows.length === 0) throw new NodeError(skipped > 0 ? `none of the ${files.length} files is an OpenAPI spec` : 'the specs define no operations', { file: p.path, field: 'paths' });
    const out = ctx.output('out');
    const conn = await ctx.duckdb();
    await writeRecords(conn, out, COLUMNS, rows);
    out.setMeta('files', files.length - skipped);
    if (skipped > 0) out.setMeta('skipped_files', skipped);
    counts.report(out, (m) => ctx.log(m), 'API');
  },
  module: import.meta.url,
});
