import { basename, extname } from 'node:path';
import { z } from 'zod';
import { NodeError } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { tokenizerParam } from '../_sdk/dataset/counting.js';
import { readText, relPath } from '../_sdk/files.js';
import { columns, writeRecords, type Cell, type Column } from '../_sdk/dataset/records.js';
import { corpusInputFiles, openCorpus } from '../_sdk/file-corpus.js';
import { renderRecord } from './render.js';

const params = z.object({
  path: z
    .string()
    .min(1)
    .meta({ title: 'JSONL file, folder or glob', description: 'One API documentation record (a JSON object) per line, or a file holding one JSON array of records', widget: 'file' }),
  include: z.string().min(1).default('**/*.jsonl').meta({ title: 'Files in a folder (glob)' }),
  format: z.enum(['keyvalue', 'markdown', 'json']).default('keyvalue').meta({ title: 'Render as', description: '"field: value" lines, Markdown, or compact JSON' }),
  fields: z.array(z.string().min(1)).default([]).meta({ title: 'Fields', description: 'Fields to render, in order; empty renders every field' }),
  exclude: z.array(z.string().min(1)).default([]).meta({ title: 'Leave out fields' }),
  titleField: z.string().min(1).default('api_name').meta({ title: 'Title field', description: 'Rendered first (ignored when absent)' }),
  idField: z.string().optional().meta({ title: 'Id field', description: 'Leave empty to number records as <file>:<line> (Gorilla api_name values repeat)' }),
  skipEmpty: z.boolean().default(true).meta({ title: 'Skip empty values', description: 'null, "", [], "N/A"' }),
  source: z.string().min(1).optional().meta({ title: 'Source name', description: 'Defaults to the file name (e.g. huggingface_api)' }),
  tokenizer: tokenizerParam,
});

const RESERVED = new Set(['id', 'text', 'source', 'file', 'line', 'tokens', 'title']);

export default defineNode({
  type: 'source.api-docs',
  version: 1,
  category: 'Sources',
  title: 'API docs (JSONL)',
  description:
    'Loads Gorilla-style API documentation: JSON Lines (any JSON object per line) or a JSON array of objects, and renders each record as a text document from its fields. Scalar string fields are kept as columns; reports documents and tokens per file.',
  inputs: {},
  outputs: { out: { kind: 'dataset', title: 'API docs' } },
  params,
  deterministic: true,
  inputFiles: (p, baseDir) => corpusInputFiles(p, baseDir),
  async run(ctx) {
    const p = ctx.params;
    const { files, counts } = openCorpus(p, ctx.baseDir, 'files');
    interface Rec {
      id: string;
      text: string;
      source: string;
      title: string | null;
      file: string;
      line: number;
      tokens: number;
      rec: Record<string, unknown>;
    }
    const recs: Rec[] = [];
    // Which top-level fields hold only strings (or nothing) in every record: those become columns.
    const stringFields = new Map<string, boolean>();
    const ids = new Map<string, string>();
    for (const abs of files) {
      const file = relPath(ctx.baseDir, abs);
      const stem = basename(abs, extname(abs));
      const source = p.source ?? stem;
      for (const { line, rec } of jsonRecords(readText(abs), file)) {
        if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) throw new NodeError(`expected a JSON object (record ${line})`, { file, line });
        const r = rec as Record<string, unknown>;
        let id = `${stem}:${line}`;
        if (p.idField) {
          const v = r[p.idField];
          if (v === undefined || v === null || v === '') throw new NodeError(`missing id field "${p.idField}"`, { file, line, field: p.idField });
          id = String(v);
          const prev = ids.get(id);
          if (prev) throw new NodeError(`id ${JSON.stringify(id)} repeats (first at ${prev}); leave the id field empty to number records`, { file, line, field: p.idField });
          ids.set(id, `${file}:${line}`);
        }
        const text = renderRecord(r, { format: p.format, fields: p.fields, exclude: p.exclude, titleField: p.titleField, skipEmpty: p.skipEmpty });
        if (!text.trim()) throw new NodeError('the record renders to an empty document (no non-empty fields selected)', { file, line, field: p.fields.join(',') || undefined });
        for (const [k, v] of Object.entries(r)) {
          const ok = v === null || typeof v === 'string';
          stringFields.set(k, (stringFields.get(k) ?? true) && ok);
        }
        const title = p.titleField && typeof r[p.titleField] === 'string' ? (r[p.titleField] as string) : null;
        recs.push({ id, text, source, title, file, line, tokens: counts.add(source, text), rec: r });
      }
    }
    if (recs.length === 0) throw new NodeError('no records', { file: p.path, line: 1 });
    const extra = [...stringFields.entries()].filter(([k, ok]) => ok && !RESERVED.has(k) && /^[A-Za-z_][A-Za-z0-9_]*$/.test(k)).map(([k]) => k);
    const cols: Column[] = [
      ...columns({ id: 'VARCHAR', text: 'VARCHAR', source: 'VARCHAR', title: 'VARCHAR' }),
      ...extra.map((name) => ({ name, type: 'VARCHAR' as const })),
      ...columns({ file: 'VARCHAR', line: 'BIGINT', tokens: 'BIGINT' }),
    ];
    const rows = recs.map((r): Cell[] => [r.id, r.text, r.source, r.title, ...extra.map((k) => (r.rec[k] as string | null | undefined) ?? null), r.file, r.line, r.tokens]);
    const out = ctx.output('out');
    await writeRecords(await ctx.duckdb(), out, cols, rows);
    out.setMeta('files', files.length);
    counts.report(out, (m) => ctx.log(m), 'file');
  },
  module: import.meta.url,
});

/**
 * The records of a JSON Lines file (one object per line, numbered by line) or of a file holding one
 * JSON array of objects (numbered by position in the array, from 1).
 */
function jsonRecords(text: string, file: string): { line: number; rec: unknown }[] {
  if (text.trimStart().startsWith('[')) {
    let all: unknown;
    try {
      all = JSON.parse(text);
    } catch (err) {
      throw new NodeError(`invalid JSON array: ${(err as Error).message} (a JSON array file must be one valid array; otherwise use one JSON object per line)`, { file });
    }
    if (!Array.isArray(all)) throw new NodeError('expected a JSON array of objects or one JSON object per line', { file });
    return all.map((rec, i) => ({ line: i + 1, rec }));
  }
  const out: { line: number; rec: unknown }[] = [];
  text.split('\n').forEach((l, i) => {
    const raw = l.trim();
    if (!raw) return;
    try {
      out.push({ line: i + 1, rec: JSON.parse(raw) });
    } catch (err) {
      throw new NodeError(`invalid JSON: ${(err as Error).message} (one JSON object per line is expected, or one JSON array)`, { file, line: i + 1 });
    }
  });
  return out;
}
