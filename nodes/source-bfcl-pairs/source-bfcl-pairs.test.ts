import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanupTempDirs, closeExecutor, DATASETS, graph, runGraph, withGraphRun } from '../_sdk/testing/graph.js';
import { checkItem, type Call } from '../eval-bfcl/ast-checker.js';
import { bfclFiles, loadCases } from '../eval-bfcl/data.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

const BFCL = join(DATASETS, 'agent/bfcl');

describe('source.bfcl-pairs node', () => {
  it('writes prompt/completion pairs whose completions pass the BFCL checker, split stably by id', async () => {
    const doc = graph([{ id: 'pairs', type: 'source.bfcl-pairs', params: { path: BFCL, categories: ['simple_python', 'irrelevance'], testFraction: 0.25 } }]);
    const run = await runGraph(doc);
    try {
      expect(run.outcome('pairs').error).toBeUndefined();
      const train = await run.rows('pairs', 'train');
      const test = await run.rows('pairs', 'test');
      const { cases } = loadCases(bfclFiles(BFCL), ['simple_python', 'irrelevance']);
      expect(train.length + test.length).toBe(cases.length);
      expect(test.length / cases.length).toBeGreaterThan(0.15);
      expect(test.length / cases.length).toBeLessThan(0.35);
      const trainIds = new Set(train.map((r) => r.id));
      expect(test.some((r) => trainIds.has(r.id))).toBe(false);
      const byId = new Map(cases.map((c) => [c.id, c]));
      for (const r of [...train, ...test]) {
        const c = byId.get(String(r.id));
        expect(c).toBeDefined();
        expect(String(r.prompt)).toContain(c?.messages[0]?.content);
        expect(String(r.prompt).endsWith('Assistant:')).toBe(true);
        expect(r.text).toBe(`${String(r.prompt)}${String(r.completion)}`);
        if (c?.category === 'irrelevance') {
          expect(r.completion).toBe(' No function applies.');
          continue;
        }
        const calls = (JSON.parse(String(r.completion)) as { name: string; arguments: Record<string, unknown> }[]).map((k): Call => ({ name: k.name, args: k.arguments }));
        expect(checkItem(String(r.category), c?.functions ?? [], calls, c?.answer).valid, String(r.id)).toBe(true);
      }
      // The same split on a rerun elsewhere (hash of the id, not of the row order).
      expect(await withGraphRun(doc, {}, (again) => again.artifact('pairs', 'test').hash)).toBe(run.artifact('pairs', 'test').hash);
    } finally {
      run.close();
    }
  });
});
