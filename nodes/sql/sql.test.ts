import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanupTempDirs, closeExecutor, DATASETS, graph, runGraph } from '../_sdk/testing/graph.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

// Real data: Gorilla's API docs for Hugging Face and TensorFlow Hub (resources/data, Apache-2.0).
const HF = join(DATASETS, 'agent/gorilla/huggingface_api.jsonl');
const TFHUB = join(DATASETS, 'agent/gorilla/tensorflowhub_api.jsonl');
const domains = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (JSON.parse(l) as { domain: string }).domain);

const sources = [
  { id: 'hf', type: 'source.jsonl', params: { path: HF, textField: 'description' } },
  { id: 'tf', type: 'source.jsonl', params: { path: TFHUB, textField: 'description' } },
];

describe('transform.sql', () => {
  it('runs a query over the connected inputs as tables a and b and outputs its rows and columns', async () => {
    const query = `SELECT 'domain:' || domain AS id, domain AS text, 'gorilla' AS source, count(*)::INTEGER AS apis
                   FROM (SELECT domain FROM a UNION ALL SELECT domain FROM b)
                   GROUP BY domain ORDER BY apis DESC, domain;`;
    const run = await runGraph(
      graph(
        [...sources, { id: 'byDomain', type: 'transform.sql', params: { query } }],
        [
          ['hf.out', 'byDomain.a'],
          ['tf.out', 'byDomain.b'],
        ],
      ),
    );
    try {
      expect(run.outcome('byDomain').error).toBeUndefined();
      const counts = new Map<string, number>();
      for (const d of [...domains(HF), ...domains(TFHUB)]) counts.set(d, (counts.get(d) ?? 0) + 1);
      const expected = [...counts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
      const rows = await run.rows('byDomain');
      expect(rows.map((r) => [r.id, r.text, r.source, r.apis])).toEqual(expected.map(([d, n]) => [`domain:${d}`, d, 'gorilla', n]));
      expect(run.artifact('byDomain', 'out').manifest.schema?.map((c) => c.name)).toEqual(['id', 'text', 'source', 'apis']);
    } finally {
      run.close();
    }
  });

  it('fails on a result without the dataset columns and on more than one statement, naming the node and params.query', async () => {
    const run = await runGraph(
      graph(
        [
          ...sources,
          { id: 'project', type: 'transform.sql', params: { query: 'SELECT id, source FROM a' } },
          { id: 'two', type: 'transform.sql', params: { query: 'SELECT * FROM a; SELECT * FROM a' } },
        ],
        [
          ['hf.out', 'project.a'],
          ['hf.out', 'two.a'],
        ],
      ),
      // Both failures are asserted: without this the first to fail stops the run and the other is skipped.
      { continueOnFailure: true },
    );
    try {
      const project = run.outcome('project');
      expect(project).toMatchObject({ state: 'failed', outputs: [], location: { nodeId: 'project', field: 'params.query' } });
      expect(project.error).toMatch(/the result lacks column\(s\) text/);
      const two = run.outcome('two');
      expect(two).toMatchObject({ state: 'failed', outputs: [], location: { nodeId: 'two', field: 'params.query' } });
      expect(two.error).toMatch(/only one SQL statement is allowed; found 2/);
    } finally {
      run.close();
    }
  });
});
