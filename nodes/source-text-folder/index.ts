import { relative, resolve, sep } from 'node:path';
import { globSync } from 'tinyglobby';
import { z } from 'zod';
import { writeDatasetFromQuery } from '../../engine/sdk/dataset.js';
import { findInvalidUtf8 } from '../../engine/sdk/jsonl-diagnose.js';
import { cleanDuckDbMessage } from '../../engine/sdk/loader.js';
import { NodeError, throwIfAborted } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { sqlString, sqlStringList } from '../../engine/sdk/sql.js';

const params = z.object({
  pattern: z.string().min(1).meta({ title: 'Files (glob)', description: 'e.g. data/books/**/*.txt, relative to the graph', widget: 'glob' }),
  unit: z.enum(['file', 'paragraph']).default('file').meta({ title: 'One record per', description: 'file, or blank-line separated paragraph' }),
  minChars: z.number().int().nonnegative().default(1).meta({ title: 'Minimum characters', description: 'Shorter records are dropped' }),
  source: z.string().min(1).default('text').meta({ title: 'Source name' }),
});

function expand(pattern: string, baseDir: string): string[] {
  return globSync(pattern, { cwd: baseDir, onlyFiles: true, absolute: true }).sort();
}

export default defineNode({
  type: 'source.text-folder',
  version: 1,
  category: 'Sources',
  title: 'Text files',
  description: 'Loads plain-text files matched by a glob, one record per file or per paragraph; ids are the relative path (and paragraph number).',
  inputs: {},
  outputs: { out: { kind: 'dataset', title: 'records' } },
  params,
  deterministic: true,
  inputFiles: (p, baseDir) => {
    const files = expand(p.pattern, baseDir);
    // An empty match is reported by run(); there is nothing to hash.
    return files;
  },
  async run(ctx) {
    const { pattern, unit, minChars, source } = ctx.params;
    const files = expand(pattern, ctx.baseDir);
    if (files.length === 0) throw new NodeError(`no files match ${pattern}`, { field: 'params.pattern', file: pattern });
    const rel = (f: string) => relative(ctx.baseDir, f).split(sep).join('/');
    const conn = await ctx.duckdb();
    // A CASE over file names maps DuckDB's absolute filenames back to the ids users see.
    const idOf = `CASE filename ${files.map((f) => `WHEN ${sqlString(resolve(f))} THEN ${sqlString(rel(f))}`).join(' ')} END`;
    const base = `SELECT ${idOf} AS rel, content FROM read_text(${sqlStringList(files)})`;
    const query =
      unit === 'file'
        ? `SELECT rel AS id, trim(content) AS text, ${sqlString(source)} AS source, length(content)::BIGINT AS chars FROM (${base}) WHERE length(trim(content)) >= ${minChars} ORDER BY rel`
        : `SELECT rel || '#' || n AS id, text, ${sqlString(source)} AS source, length(text)::BIGINT AS chars FROM (
             SELECT rel, regexp_replace(trim(unnest(parts)), '\\s*\\n\\s*', ' ', 'g') AS text, generate_subscripts(parts, 1) AS n
             FROM (SELECT rel, string_split_regex(content, '\\r?\\n[ \\t]*\\r?\\n') AS parts FROM (${base})))
           WHERE length(text) >= ${minChars} ORDER BY rel, n`;
    try {
      const { rows } = await writeDatasetFromQuery(conn, query, ctx.output('out'));
      ctx.progress(rows, rows, `${rows} records from ${files.length} files`);
    } catch (err) {
      throwIfAborted(ctx.signal);
      const message = cleanDuckDbMessage((err as Error).message);
      const file = files.find((f) => message.includes(f));
      if (file && /UTF-8/i.test(message)) {
        // DuckDB names the file but not the place; find the first line that is not UTF-8.
        const problem = await findInvalidUtf8(file);
        if (problem) throw new NodeError(`${problem.message}; the file is not UTF-8 text`, { file: rel(file), line: problem.line });
      }
      // DuckDB's messages carry absolute paths; users see paths relative to the graph.
      const shown = files.reduce((m, f) => m.replaceAll(f, rel(f)), message.replace(/read_text: /, ''));
      throw new NodeError(shown, { file: file ? rel(file) : pattern, field: file ? undefined : 'params.pattern' });
    }
  },
  module: import.meta.url,
});
