import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NodeRegistry } from '../../engine/registry.js';
import { NODE_TYPES } from '../index.js';
import { cleanupTempDirs, closeExecutor, graph, runGraph } from '../_sdk/testing/graph.js';
import dedup from './index.js';

const registry = new NodeRegistry(NODE_TYPES.some((t) => t.type === dedup.type) ? NODE_TYPES : [...NODE_TYPES, dedup]);
afterEach(cleanupTempDirs);
afterAll(closeExecutor);

const DOCS = [
  { id: 'a', text: 'The quick brown fox.' },
  { id: 'b', text: 'the  quick brown   fox.' },
  { id: 'c', text: 'The quick brown fox!' },
  { id: 'd', text: 'Something else entirely.' },
  { id: 'e', text: ' THE QUICK BROWN FOX. ' },
];
const jsonl = DOCS.map((d) => JSON.stringify(d)).join('\n');

async function dedupWith(normalize: string) {
  const run = await runGraph(
    graph(
      [
        { id: 'src', type: 'source.jsonl', params: { path: 'd.jsonl', idField: 'id' } },
        { id: 'dd', type: 'transform.dedup-exact', params: { normalize } },
      ],
      [['src.out', 'dd.in']],
    ),
    { registry, files: { 'd.jsonl': jsonl } },
  );
  try {
    expect(run.outcome('dd').error).toBeUndefined();
    return { kept: await run.rows('dd', 'out'), dropped: await run.rows('dd', 'dropped'), meta: run.artifact('dd', 'out').manifest.meta };
  } finally {
    run.close();
  }
}

describe('transform.dedup-exact', () => {
  it('keeps the first of each normalised-hash group and routes the rest to dropped', async () => {
    const lower = await dedupWith('lowercase');
    expect(lower.kept.map((r) => [r.id, r.duplicate_count])).toEqual([
      ['a', '3'],
      ['c', '1'],
      ['d', '1'],
    ]);
    expect(lower.dropped.map((r) => [r.id, r.duplicate_of])).toEqual([
      ['b', 'a'],
      ['e', 'a'],
    ]);
    expect(lower.meta).toMatchObject({ rows_in: 5, kept: 3, dropped: 2, duplicate_groups: 1 });

    const alnum = await dedupWith('alphanumeric');
    expect(alnum.kept.map((r) => r.id)).toEqual(['a', 'd']);
    expect(alnum.dropped.map((r) => r.id)).toEqual(['b', 'c', 'e']);

    const exact = await dedupWith('exact');
    expect(exact.kept).toHaveLength(5);
  });
});
