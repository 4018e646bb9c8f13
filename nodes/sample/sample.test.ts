import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanupTempDirs, closeExecutor, graph, refusedDiagnostics, runGraph } from '../_sdk/testing/graph.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

const IDS = Array.from({ length: 50 }, (_, i) => `doc-${String(i).padStart(2, '0')}`);
const jsonl = (ids: string[]) => ids.map((id) => JSON.stringify({ id, text: `text of ${id}`, n: Number(id.slice(4)) })).join('\n');

/** Runs every sampler over `ids` (in that file order) with one graph seed; returns the ids each output. */
async function sampled(ids: string[], seed: number, samplers: Record<string, Record<string, unknown>>): Promise<Record<string, string[]>> {
  const names = Object.keys(samplers);
  const run = await runGraph(
    graph(
      [{ id: 'src', type: 'source.jsonl', params: { path: 'd.jsonl', idField: 'id' } }, ...names.map((id) => ({ id, type: 'transform.sample', params: samplers[id] }))],
      names.map((id) => ['src.out', `${id}.in`] as [string, string]),
      seed,
    ),
    { files: { 'd.jsonl': jsonl(ids) } },
  );
  try {
    const out: Record<string, string[]> = {};
    for (const id of names) {
      expect(run.outcome(id).error).toBeUndefined();
      const rows = await run.rows(id);
      // Every column travels with the row.
      for (const r of rows) expect(r.text).toBe(`text of ${String(r.id)}`);
      out[id] = rows.map((r) => String(r.id));
    }
    return out;
  } finally {
    run.close();
  }
}

describe('transform.sample', () => {
  it('samples by count or fraction and shuffles, deterministically from the seed and independent of input order', async () => {
    const samplers = { ten: { rows: 10 }, share: { fraction: 0.3 }, more: { rows: 80 }, all: { mode: 'shuffle' } };
    const a = await sampled(IDS, 7, samplers);
    expect(a.ten).toHaveLength(10);
    expect(new Set(a.ten).size).toBe(10);
    for (const id of a.ten ?? []) expect(IDS).toContain(id);
    expect(a.share).toHaveLength(15);
    expect(a.more).toHaveLength(50); // asking for more rows than there are gives them all
    expect([...(a.all ?? [])].sort()).toEqual(IDS);
    expect(a.all).not.toEqual(IDS); // shuffled, not the input order
    // Sampling is a prefix of the seeded order, so every sample is the head of the shuffle.
    expect(a.ten).toEqual(a.all?.slice(0, 10));
    expect(a.share).toEqual(a.all?.slice(0, 15));

    // Same seed, input in reverse order: the same rows in the same order.
    const reversed = await sampled([...IDS].reverse(), 7, samplers);
    expect(reversed).toEqual(a);
    // Another seed picks other rows.
    const other = await sampled(IDS, 8, { ten: { rows: 10 } });
    expect(other.ten).not.toEqual(a.ten);
  });

  it('fails when both rows and fraction are given, and the graph is refused when neither is', async () => {
    const run = await runGraph(
      graph(
        [
          { id: 'src', type: 'source.jsonl', params: { path: 'd.jsonl', idField: 'id' } },
          { id: 'both', type: 'transform.sample', params: { rows: 5, fraction: 0.5 } },
        ],
        [['src.out', 'both.in']],
      ),
      { files: { 'd.jsonl': jsonl(IDS) } },
    );
    try {
      const o = run.outcome('both');
      expect(o).toMatchObject({ state: 'failed', outputs: [], location: { nodeId: 'both', field: 'params.fraction' } });
      expect(o.error).toMatch(/give either rows or fraction, not both/);
    } finally {
      run.close();
    }
    const diagnostics = await refusedDiagnostics(
      graph(
        [
          { id: 'src', type: 'source.jsonl', params: { path: 'd.jsonl', idField: 'id' } },
          { id: 'neither', type: 'transform.sample', params: {} },
        ],
        [['src.out', 'neither.in']],
      ),
    );
    expect(diagnostics).toEqual([expect.objectContaining({ severity: 'error', nodeId: 'neither', field: 'params.rows', message: expect.stringMatching(/give rows or fraction/) })]);
  });
});
