import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs } from '../_sdk/testing/graph.js';
import { makeDataset, readDataset, runNode } from '../_sdk/testing/harness.js';
import sql from './index.js';

afterAll(cleanupTempDirs);

const rows = Array.from({ length: 30 }, (_, i) => ({ id: `r${i}`, text: `row ${i} ${'x'.repeat(i)}`, source: i % 3 === 0 ? 'api' : 'web' }));
const shardFiles = (ref: { manifest: { files: { path: string }[] } }) => ref.manifest.files.filter((f) => f.path.startsWith('shards/') && f.path.endsWith('.parquet')).length;

describe('transform.sql with perShard: the query runs once per shard of a', () => {
  it('gives the same rows in the same order as one query over a row-wise query, one output shard per input shard', async () => {
    const a = await makeDataset(rows, { shards: 7 });
    const query = "SELECT id, upper(text) AS text, source, length(text) AS n FROM a WHERE source = 'web'";
    const perShard = await runNode(sql, { inputs: { a }, params: { query, perShard: true } });
    const whole = await runNode(sql, { inputs: { a }, params: { query } });
    expect(shardFiles(a)).toBe(7);
    expect(shardFiles(perShard.outputs.out!)).toBe(7);
    const got = await readDataset(perShard.outputs.out!);
    expect(got).toEqual(await readDataset(whole.outputs.out!));
    expect(got.map((r) => r.id)).toEqual(rows.filter((r) => r.source === 'web').map((r) => r.id));
    expect(perShard.logs.map((l) => l.message)).toContain('shards: 7 of 7 executed');
  });

  it('joins each shard of a against the whole of b (the query keeps its own WITH)', async () => {
    const a = await makeDataset(rows, { shards: 4 });
    const b = await makeDataset(
      rows.filter((_, i) => i % 2 === 0).map((r) => ({ ...r, label: `L${r.id}` })),
      { shards: 3 },
    );
    const query = 'WITH labels AS (SELECT id, label FROM b) SELECT a.*, labels.label FROM a JOIN labels USING (id) ORDER BY a.id';
    const perShard = await readDataset((await runNode(sql, { inputs: { a, b }, params: { query, perShard: true } })).outputs.out!);
    const whole = await readDataset((await runNode(sql, { inputs: { a, b }, params: { query } })).outputs.out!);
    // Per shard, ORDER BY sorts within a shard; the shards keep a's order.
    const byId = (x: Record<string, unknown>[]) => [...x].sort((p, q) => String(p.id).localeCompare(String(q.id)));
    expect(byId(perShard)).toEqual(byId(whole));
    expect(perShard).toHaveLength(15);
    expect(perShard.every((r) => r.label === `L${String(r.id)}`)).toBe(true);
  });

  it('applies an aggregate within each shard, as its README says', async () => {
    const a = await makeDataset(rows, { shards: 3 });
    const query = "SELECT 'count' AS id, count(*)::VARCHAR AS text, 'stats' AS source FROM a";
    const got = await readDataset((await runNode(sql, { inputs: { a }, params: { query, perShard: true } })).outputs.out!);
    expect(got.map((r) => r.text)).toEqual(['10', '10', '10']);
  });

  it('a query that fails on the data fails the node naming params.query', async () => {
    const a = await makeDataset(rows, { shards: 3 });
    await expect(runNode(sql, { inputs: { a }, params: { query: 'SELECT id, text, source, CAST(text AS INTEGER) AS n FROM a', perShard: true } })).rejects.toMatchObject({
      location: { field: 'params.query' },
      message: expect.stringMatching(/Could not convert string 'row 0/),
    });
  });
});
