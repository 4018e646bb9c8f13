import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanupTempDirs, closeExecutor, DATASETS, graph, runGraph } from '../_sdk/testing/graph.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

// Real data: the bundled labelled pool (agent-like documents among man pages, changelogs and prose).
// Its ids are not unique, so it is loaded without idField and the loader numbers the records: row i is `pool-small:i+1`.
const POOL = join(DATASETS, 'labelled-pool/pool-small.jsonl');
const pool = readFileSync(POOL, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l, i) => ({ ...(JSON.parse(l) as { source: string; package?: string | null; is_agent: boolean }), id: `pool-small:${i + 1}` }));

const load = { id: 'pool', type: 'source.jsonl', params: { path: POOL } };

describe('transform.filter', () => {
  it('keeps the rows where the expression is true, in input order, and sends false and NULL rows to rejected', async () => {
    const run = await runGraph(
      graph(
        [
          load,
          { id: 'agent', type: 'transform.filter', params: { where: "is_agent AND source <> 'apibench'" } },
          // `package` is NULL for every row that did not come from a Debian package: NULL is not true.
          { id: 'gitman', type: 'transform.filter', params: { where: "package = 'git-man'" } },
        ],
        [
          ['pool.out', 'agent.in'],
          ['pool.out', 'gitman.in'],
        ],
      ),
    );
    try {
      for (const n of ['pool', 'agent', 'gitman']) expect(run.outcome(n).error).toBeUndefined();
      const isAgent = (r: (typeof pool)[number]) => r.is_agent && r.source !== 'apibench';
      const kept = await run.rows('agent', 'out');
      const rejected = await run.rows('agent', 'rejected');
      expect(kept.map((r) => r.id)).toEqual(pool.filter(isAgent).map((r) => r.id));
      expect(rejected.map((r) => r.id)).toEqual(pool.filter((r) => !isAgent(r)).map((r) => r.id));
      expect(kept.length).toBeGreaterThan(0);
      // All columns go through unchanged.
      expect(Object.keys(kept[0] ?? {})).toEqual(['id', 'text', 'source', 'package', 'is_agent']);

      const git = await run.rows('gitman', 'out');
      const notGit = await run.rows('gitman', 'rejected');
      expect(git.map((r) => r.id)).toEqual(pool.filter((r) => r.package === 'git-man').map((r) => r.id));
      expect(git.length + notGit.length).toBe(pool.length);
      expect(notGit.filter((r) => r.package === null)).toHaveLength(pool.filter((r) => r.package == null).length);
    } finally {
      run.close();
    }
  });

  it('gives a side with no rows its empty shards with every column, and the same artifacts on a second workspace', async () => {
    const nodes = [load, { id: 'all', type: 'transform.filter', params: { where: 'length(text) > 0' } }];
    const runs = [await runGraph(graph(nodes, [['pool.out', 'all.in']])), await runGraph(graph(nodes, [['pool.out', 'all.in']]))];
    try {
      const [a, b] = runs as [Awaited<ReturnType<typeof runGraph>>, Awaited<ReturnType<typeof runGraph>>];
      expect(a.outcome('all').error).toBeUndefined();
      expect((await a.rows('all', 'out')).map((r) => r.id)).toEqual(pool.map((r) => r.id));
      const rejected = a.artifact('all', 'rejected');
      expect(rejected.manifest.rows).toBe(0);
      expect(rejected.manifest.files.filter((f) => f.path.startsWith('shards/'))).toHaveLength(a.artifact('pool', 'out').manifest.files.filter((f) => f.path.startsWith('shards/')).length);
      expect(rejected.manifest.schema?.map((c) => c.name)).toEqual(['id', 'text', 'source', 'package', 'is_agent']);
      // Content-addressed outputs: a fresh workspace computes byte-identical shards.
      expect(b.artifact('all', 'out').hash).toBe(a.artifact('all', 'out').hash);
      expect(b.artifact('all', 'rejected').hash).toBe(rejected.hash);
    } finally {
      for (const r of runs) r.close();
    }
  });

  it('refuses an expression over an unknown column before writing anything, naming the node and params.where', async () => {
    const run = await runGraph(graph([load, { id: 'long_only', type: 'transform.filter', params: { where: 'word_count > 100' } }], [['pool.out', 'long_only.in']]));
    try {
      const o = run.outcome('long_only');
      expect(o).toMatchObject({ state: 'failed', outputs: [], location: { nodeId: 'long_only', field: 'params.where' } });
      expect(o.error).toMatch(/invalid expression: .*word_count/);
      expect(run.stagingLeft()).toEqual([]);
    } finally {
      run.close();
    }
  });
});
