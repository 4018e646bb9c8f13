import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanupTempDirs, closeExecutor, graph, runGraph } from '../_sdk/testing/graph.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

const RECORDS = Array.from({ length: 12 }, (_, i) => ({
  id: `r${String(i).padStart(2, '0')}`,
  text: i === 3 ? 'a | pipe\nand   a line break that goes on and on' : `row number ${i}`,
  score: i === 5 ? null : (i * 7) % 12,
  lang: i % 2 === 0 ? 'en' : 'de',
  a: i,
  b: i,
  c: i,
  d: i,
}));
const files = { 'd.jsonl': RECORDS.map((r) => JSON.stringify(r)).join('\n') };

interface Table {
  columns: string[];
  rows: Record<string, string>[];
  total: number | null;
}

function tableGraph(tables: Record<string, Record<string, unknown>>, seed = 0) {
  const names = Object.keys(tables);
  return graph(
    [{ id: 'src', type: 'source.jsonl', params: { path: 'd.jsonl', idField: 'id', source: 'demo' } }, ...names.map((id) => ({ id, type: 'view.table', params: tables[id] }))],
    names.map((id) => ['src.out', `${id}.in`] as [string, string]),
    seed,
  );
}

describe('view.table', () => {
  it('tables the first, sorted or seeded-random rows with default or chosen columns, cutting long cells', async () => {
    const run = await runGraph(
      tableGraph({
        first: { rows: 4, maxChars: 20 },
        sorted: { columns: ['id', 'score'], rows: 12, order: 'column', sortBy: 'score', descending: false },
        random: { columns: ['id'], rows: 5, order: 'random' },
      }),
      { files },
    );
    try {
      for (const n of ['first', 'sorted', 'random']) expect(run.outcome(n).error).toBeUndefined();
      const first = run.json('first', 'chart', 'table.json') as Table;
      // Default columns: id, source, text, then the first three others.
      expect(first.columns).toEqual(['id', 'source', 'text', 'score', 'lang', 'a']);
      expect(first.total).toBe(12);
      expect(first.rows.map((r) => r.id)).toEqual(['r00', 'r01', 'r02', 'r03']);
      // Whitespace runs become one space; a cell longer than maxChars ends in an ellipsis.
      expect(first.rows[3]?.text).toBe('a | pipe and a line…');
      expect(first.rows[3]?.text).toHaveLength(20);
      // The Markdown table escapes the pipe so the row keeps its columns.
      const md = readFileSync(join(run.artifact('first', 'chart').dir, 'table.md'), 'utf8');
      expect(md.split('\n')[0]).toBe('| id | source | text | score | lang | a |');
      expect(md).toContain('| r03 | demo | a \\| pipe and a line… | 9 | de | 3 |');

      const sorted = run.json('sorted', 'chart', 'table.json') as Table;
      const byScore = RECORDS.filter((r) => r.score !== null).sort((x, y) => (x.score ?? 0) - (y.score ?? 0) || (x.id < y.id ? -1 : 1));
      // Ascending, NULL last.
      expect(sorted.rows.map((r) => [r.id, r.score])).toEqual([...byScore.map((r) => [r.id, String(r.score)]), ['r05', '']]);

      const random = (run.json('random', 'chart', 'table.json') as Table).rows.map((r) => r.id);
      expect(random).toHaveLength(5);
      expect(new Set(random).size).toBe(5);
      expect(random).not.toEqual(['r00', 'r01', 'r02', 'r03', 'r04']);

      const spec = run.json('first', 'chart', 'chart.json') as { hconcat: { title: { text: string } }[]; data: { values: unknown[] } };
      expect(spec.hconcat.map((c) => c.title.text)).toEqual(first.columns);
      expect(spec.data.values).toHaveLength(4 * 6);
    } finally {
      run.close();
    }
  });

  it('fails on a column the dataset does not have, naming the node, params.columns and the columns there are', async () => {
    // Both failures are asserted: without continueOnFailure the first to fail stops the run and the other is skipped.
    const run = await runGraph(tableGraph({ table: { columns: ['id', 'label'] }, unsorted: { order: 'column' } }), { files, continueOnFailure: true });
    try {
      const o = run.outcome('table');
      expect(o).toMatchObject({ state: 'failed', outputs: [], location: { nodeId: 'table', field: 'params.columns' } });
      expect(o.error).toMatch(/no column "label" \(columns: id, text, source, score, lang, a, b, c, d\)/);
      expect(run.outcome('unsorted')).toMatchObject({ state: 'failed', location: { nodeId: 'unsorted', field: 'params.sortBy' } });
    } finally {
      run.close();
    }
  });
});
