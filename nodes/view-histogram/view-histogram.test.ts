import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanupTempDirs, closeExecutor, graph, runGraph } from '../_sdk/testing/graph.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

// 10 agent rows with score 0.9 and 30 prose rows with scores 0.0, 0.1, 0.2 (10 each).
const rows = [
  ...Array.from({ length: 10 }, (_, i) => ({ id: `a${i}`, text: 'call get_weather now', kind: 'agent', score: 0.9 })),
  ...Array.from({ length: 30 }, (_, i) => ({ id: `p${i}`, text: 'once upon a time there was', kind: 'prose', score: (i % 3) / 10 })),
];
const files = { 'd.jsonl': rows.map((r) => JSON.stringify(r)).join('\n') };

describe('view.histogram and view.table', () => {
  it('bins a numeric column by group with exact counts and summary metrics; tables rows', async () => {
    const run = await runGraph(
      graph(
        [
          { id: 'src', type: 'source.jsonl', params: { path: 'd.jsonl', idField: 'id' } },
          { id: 'hist', type: 'view.histogram', params: { column: 'score', groupBy: 'kind', bins: 9 } },
          { id: 'words', type: 'view.histogram', params: { column: 'words', bins: 5 } },
          { id: 'table', type: 'view.table', params: { columns: ['id', 'score', 'text'], rows: 3, order: 'column', sortBy: 'score', maxChars: 10 } },
        ],
        [
          ['src.out', 'hist.in'],
          ['src.out', 'words.in'],
          ['src.out', 'table.in'],
        ],
      ),
      { files },
    );
    try {
      for (const n of ['hist', 'words', 'table']) expect(run.outcome(n).error).toBeUndefined();
      const chart = run.json('hist', 'chart', 'chart.json') as { data: { values: { group: string; bin_start: number; count: number }[] } };
      expect(chart.data.values.map((v) => [v.group, v.bin_start, v.count])).toEqual([
        ['agent', 0.8, 10], // the maximum falls in the last bin
        ['prose', 0, 10],
        ['prose', 0.1, 10],
        ['prose', 0.2, 10],
      ]);
      const m = run.metrics('hist');
      expect(m).toMatchObject({ count: 40, min: 0, max: 0.9, 'agent.count': 10, 'prose.count': 30, 'prose.mean': 0.1 });
      expect(Number(m.mean)).toBeCloseTo((9 + 3) / 40, 9);
      expect(run.metrics('words')).toMatchObject({ count: 40, min: 3, max: 6 }); // 'call get_weather now' is 3 words;
      const table = run.json('table', 'chart', 'table.json') as { rows: Record<string, string>[] };
      expect(table.rows.map((r) => r.id)).toEqual(['a0', 'a1', 'a2']);
      expect(table.rows[0]?.text).toBe('call get_…');
    } finally {
      run.close();
    }
  });
});
