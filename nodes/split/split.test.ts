import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanupTempDirs, closeExecutor, graph, refusedDiagnostics, runGraph } from '../_sdk/testing/graph.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

const ids = (n: number) => Array.from({ length: n }, (_, i) => `q${i}`);
const jsonl = (list: string[]) => list.map((id) => JSON.stringify({ id, text: `question ${id}` })).join('\n');

async function split(list: string[], seed: number, testFraction: number): Promise<{ train: string[]; test: string[] }> {
  const run = await runGraph(
    graph(
      [
        { id: 'src', type: 'source.jsonl', params: { path: 'd.jsonl', idField: 'id' } },
        { id: 'split', type: 'transform.split', params: { testFraction } },
      ],
      [['src.out', 'split.in']],
      seed,
    ),
    { files: { 'd.jsonl': jsonl(list) } },
  );
  try {
    expect(run.outcome('split').error).toBeUndefined();
    return { train: (await run.rows('split', 'train')).map((r) => String(r.id)), test: (await run.rows('split', 'test')).map((r) => String(r.id)) };
  } finally {
    run.close();
  }
}

describe('transform.split', () => {
  it('puts every row on exactly one side, about testFraction in test, and keeps a row on its side when rows are added', async () => {
    const all = ids(400);
    const first = await split(all, 3, 0.25);
    // Both sides keep the input order, and together they are the input, each row once.
    expect(first.train).toEqual(all.filter((id) => !first.test.includes(id)));
    expect(first.test).toEqual(all.filter((id) => first.test.includes(id)));
    // A seeded hash gives 25 % in expectation (100 ± 8.7 for 400 rows): a wide band, no exact count.
    expect(first.test.length).toBeGreaterThan(60);
    expect(first.test.length).toBeLessThan(140);

    // 200 more rows, all shuffled: the first 400 stay where they were.
    const grown = await split([...ids(600)].reverse(), 3, 0.25);
    expect(grown.test.filter((id) => all.includes(id)).sort()).toEqual([...first.test].sort());
    expect(grown.train.length + grown.test.length).toBe(600);

    // The graph seed decides the split.
    const reseeded = await split(all, 4, 0.25);
    expect(reseeded.test).not.toEqual(first.test);
  });

  it('refuses a test fraction outside (0, 1), naming the node and the param', async () => {
    const diagnostics = await refusedDiagnostics(
      graph(
        [
          { id: 'src', type: 'source.jsonl', params: { path: 'd.jsonl' } },
          { id: 'split', type: 'transform.split', params: { testFraction: 1 } },
        ],
        [['src.out', 'split.in']],
      ),
    );
    expect(diagnostics).toEqual([expect.objectContaining({ severity: 'error', code: 'invalid-params', nodeId: 'split', field: 'params.testFraction' })]);
  });
});
