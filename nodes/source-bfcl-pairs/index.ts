import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { NodeError } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { columns, writeRecords, type Cell } from '../_sdk/dataset/records.js';
import { groundTruthCalls, kindOf } from '../eval-bfcl/ast-checker.js';
import { bfclFiles, loadCases, type BfclCase } from '../eval-bfcl/data.js';

const params = z.object({
  path: z.string().min(1).meta({ title: 'BFCL data', description: 'A BFCL_v*_*.json file or a folder of them, with possible_answer/ beside', widget: 'file' }),
  categories: z.array(z.string().min(1)).default([]).meta({ title: 'Categories', description: 'empty: every single-turn category with answers (and irrelevance, answered by no call)' }),
  testFraction: z.number().min(0).lt(1).default(0.2).meta({ title: 'Held-out fraction', description: 'Items go to test by a hash of their id, so the split is stable' }),
});

const COLUMNS = columns({ id: 'VARCHAR', text: 'VARCHAR', prompt: 'VARCHAR', completion: 'VARCHAR', source: 'VARCHAR', category: 'VARCHAR' });

/** The prompt a tools-API model sees, flattened: function docs as JSON, then the conversation. */
export function promptOf(c: BfclCase): string {
  const msgs = c.messages.map((m) => `${m.role === 'user' ? 'User' : m.role === 'system' ? 'System' : 'Assistant'}: ${m.content}`).join('\n');
  return `Functions: ${JSON.stringify(c.functions)}\n${msgs}\nAssistant:`;
}

/** The ground-truth answer as tool calls (JSON), or a refusal on irrelevance items. */
export function completionOf(c: BfclCase): string {
  if (kindOf(c.category) === 'irrelevance') return ' No function applies.';
  const calls = groundTruthCalls(c.answer ?? [], c.functions).map((k) => ({ name: k.name, arguments: k.args }));
  return ` ${JSON.stringify(calls)}`;
}

function isTest(id: string, fraction: number): boolean {
  const h = createHash('sha256').update(id).digest().readUInt32BE(0);
  return h / 0x1_0000_0000 < fraction;
}

export default defineNode({
  type: 'source.bfcl-pairs',
  version: 1,
  category: 'Sources',
  title: 'BFCL instruction pairs',
  description:
    'Instruction–completion pairs from BFCL for Stage III fine-tuning: prompt = function docs + question, completion = the ground-truth tool calls as JSON (a refusal on irrelevance items). Columns prompt, completion and text (both joined); a stable hash split into train and test.',
  inputs: {},
  outputs: { train: { kind: 'dataset', title: 'training pairs' }, test: { kind: 'dataset', title: 'held-out pairs' } },
  params,
  deterministic: true,
  inputFiles: (p, baseDir) => {
    const root = isAbsolute(p.path) ? p.path : resolve(baseDir, p.path);
    return existsSync(root) ? bfclFiles(root) : [];
  },
  async run(ctx) {
    const p = ctx.params;
    const root = isAbsolute(p.path) ? p.path : resolve(ctx.baseDir, p.path);
    const { cases } = loadCases(bfclFiles(root), p.categories);
    const usable = cases.filter((c) => kindOf(c.category) !== 'relevance');
    if (usable.length === 0) throw new NodeError('no BFCL items with answers in these categories', { field: 'params.categories' });
    const rows = (test: boolean): Cell[][] =>
      usable
        .filter((c) => isTest(c.id, p.testFraction) === test)
        .map((c) => {
          const prompt = promptOf(c);
          const completion = completionOf(c);
          return [c.id, prompt + completion, prompt, completion, 'bfcl', c.category];
        });
    const conn = await ctx.duckdb();
    const nTrain = await writeRecords(conn, ctx.output('train'), COLUMNS, rows(false));
    const nTest = await writeRecords(conn, ctx.output('test'), COLUMNS, rows(true));
    ctx.log(`${nTrain} training pairs, ${nTest} held out, from ${new Set(usable.map((c) => c.category)).size} categories`);
  },
  module: import.meta.url,
});
