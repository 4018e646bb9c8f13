import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { NodeError } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { tokenizerParam } from '../_sdk/dataset/counting.js';
import { expandPath, parseJsonFile, readText, relPath } from '../_sdk/files.js';
import { columns, writeRecords, type Cell } from '../_sdk/dataset/records.js';
import { corpusInputFiles, openCorpus } from '../_sdk/file-corpus.js';
import { answerTurns, CLASS_DOC_FILES, ItemError, parseAnswers, parseItems, renderItem } from './bfcl.js';

const params = z.object({
  path: z.string().min(1).meta({ title: 'BFCL file, folder or glob', description: 'BFCL_v*_*.json files (JSON Lines despite the name)', widget: 'file' }),
  include: z.string().min(1).default('BFCL_*.json').meta({ title: 'Files in a folder (glob)' }),
  answers: z.string().min(1).default('auto').meta({
    title: 'Ground truth',
    description: 'auto: possible_answer/<same file name> beside each file when present; none; or a folder holding the answer files',
  }),
  funcDocs: z.string().min(1).default('auto').meta({ title: 'Multi-turn function docs', description: 'auto: multi_turn_func_doc/ beside the files; or a folder' }),
  requireAnswers: z.boolean().default(false).meta({ title: 'Only items with ground truth', description: 'Drop items that have no answer (e.g. irrelevance)' }),
  functionFormat: z.enum(['json', 'signature']).default('json').meta({ title: 'Function docs as', description: 'the JSON schema as models see it, or a compact signature' }),
  source: z.string().min(1).default('bfcl').meta({ title: 'Source name' }),
  tokenizer: tokenizerParam,
});

type Params = z.output<typeof params>;

const COLUMNS = columns({
  id: 'VARCHAR',
  text: 'VARCHAR',
  source: 'VARCHAR',
  category: 'VARCHAR',
  turns: 'BIGINT',
  functions: 'BIGINT',
  function_names: 'VARCHAR',
  has_answer: 'BOOLEAN',
  answer: 'VARCHAR',
  file: 'VARCHAR',
  tokens: 'BIGINT',
});

const abs = (baseDir: string, p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));

function answerFile(p: Params, baseDir: string, file: string): string | null {
  if (p.answers === 'none') return null;
  const dir = p.answers === 'auto' ? join(dirname(file), 'possible_answer') : abs(baseDir, p.answers);
  const f = join(dir, basename(file));
  return existsSync(f) ? f : null;
}

function funcDocDir(p: Params, baseDir: string, file: string): string {
  return p.funcDocs === 'auto' ? join(dirname(file), 'multi_turn_func_doc') : abs(baseDir, p.funcDocs);
}

function category(file: string): string {
  return basename(file, extname(file)).replace(/^BFCL_v\d+_/, '');
}

export default defineNode({
  type: 'source.bfcl',
  version: 1,
  category: 'Sources',
  title: 'BFCL function calling',
  description:
    'Loads Berkeley Function Calling Leaderboard items (question + function schemas), optionally joined with possible_answer ground truth, as trajectory-like documents: tools, user turns, assistant calls. Reports documents and tokens per category.',
  inputs: {},
  outputs: { out: { kind: 'dataset', title: 'trajectories' } },
  params,
  deterministic: true,
  inputFiles: (p, baseDir) => {
    const files = expandPath(p.path, baseDir, p.include);
    const extra: string[] = [];
    const docDirs = new Set<string>();
    for (const f of files) {
      const a = answerFile(p, baseDir, f);
      if (a) extra.push(a);
      if (category(f).startsWith('multi_turn')) docDirs.add(funcDocDir(p, baseDir, f));
    }
    for (const d of docDirs) {
      if (existsSync(d) && statSync(d).isDirectory()) for (const n of readdirSync(d).sort()) if (n.endsWith('.json')) extra.push(join(d, n));
    }
    return corpusInputFiles(p, baseDir, extra);
  },
  async run(ctx) {
    const p = ctx.params;
    const { files, counts } = openCorpus(p, ctx.baseDir, 'BFCL files');
    const rows: Cell[][] = [];
    const seen = new Set<string>();
    const docCache = new Map<string, Record<string, unknown>[]>();
    let withAnswer = 0;
    let dropped = 0;

    const classDocs = (dir: string, cls: string, file: string, line: number): Record<string, unknown>[] => {
      const name = CLASS_DOC_FILES[cls] ?? `${cls.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase()}.json`;
      const f = join(dir, name);
      const cached = docCache.get(f);
      if (cached) return cached;
      if (!existsSync(f)) throw new NodeError(`no function docs for class ${cls} (looked for ${relPath(ctx.baseDir, f)}); set the funcDocs param`, { file, line, field: 'involved_classes' });
      const docs: Record<string, unknown>[] = [];
      const text = readText(f);
      text.split('\n').forEach((raw, i) => {
        if (!raw.trim()) return;
        const v = parseJsonFile(raw, `${relPath(ctx.baseDir, f)}:${i + 1}`);
        if (v && typeof v === 'object' && !Array.isArray(v)) docs.push(v as Record<string, unknown>);
      });
      docCache.set(f, docs);
      return docs;
    };

    for (const [fi, fileAbs] of files.entries()) {
      const file = relPath(ctx.baseDir, fileAbs);
      const cat = category(fileAbs);
      let items;
      try {
        items = parseItems(readText(fileAbs));
      } catch (err) {
        if (err instanceof ItemError) throw new NodeError(err.message, { file, line: err.line, field: err.field });
        throw err;
      }
      const aFile = answerFile(p, ctx.baseDir, fileAbs);
      let answers = new Map<string, unknown>();
      if (aFile) {
        try {
          answers = parseAnswers(readText(aFile));
        } catch (err) {
          if (err instanceof ItemError) throw new NodeError(err.message, { file: relPath(ctx.baseDir, aFile), line: err.line, field: err.field });
          throw err;
        }
      }
      for (const item of items) {
        if (seen.has(item.id)) throw new NodeError(`id ${JSON.stringify(item.id)} appears twice; ids must be unique`, { file, line: item.line, field: 'id' });
        seen.add(item.id);
        let functions = item.functions;
        if (!functions) {
          const dir = funcDocDir(p, ctx.baseDir, fileAbs);
          const excluded = new Set(item.excluded);
          functions = item.involvedClasses.flatMap((c) => classDocs(dir, c, file, item.line)).filter((f) => !excluded.has(String(f.name)));
        }
        const answer = answers.get(item.id);
        if (answer === undefined && p.requireAnswers) {
          dropped++;
          continue;
        }
        if (answer !== undefined) withAnswer++;
        const text = renderItem(functions, item.turns, answer, { functionFormat: p.functionFormat, withAnswers: true });
        const tokens = counts.add(cat, text);
        rows.push([
          item.id,
          text,
          p.source,
          cat,
          item.turns.length,
          functions.length,
          functions.map((f) => String(f.name)).join(','),
          answer !== undefined,
          answer !== undefined ? JSON.stringify(answerTurns(answer)) : null,
          file,
          tokens,
        ]);
      }
      ctx.progress(fi + 1, files.length, file);
    }
    if (rows.length === 0) throw new NodeError('no items loaded', { file: p.path, field: p.requireAnswers ? 'requireAnswers' : 'path' });
    const out = ctx.output('out');
    await writeRecords(await ctx.duckdb(), out, COLUMNS, rows);
    out.setMeta('with_answer', withAnswer);
    if (dropped > 0) out.setMeta('dropped_without_answer', dropped);
    counts.report(out, (m) => ctx.log(`${m}; ${withAnswer} with ground truth`), 'category');
  },
  module: import.meta.url,
});
