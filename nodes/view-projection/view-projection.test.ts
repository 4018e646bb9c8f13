import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { NodeRegistry } from '../../engine/registry.js';
import { defineNode } from '../../engine/sdk/types.js';
import { writeEmbeddings } from '../_sdk/vectors/embeddings.js';
import { readIdsAndTexts } from '../_sdk/dataset/rows.js';
import { mulberry32 } from '../_sdk/rng.js';
import { cleanupTempDirs, closeExecutor, graph, runGraph } from '../_sdk/testing/graph.js';
import { NODE_TYPES } from '../index.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

const DIM = 16;
/** Embeds "agent …" and "prose …" texts as two Gaussian blobs (a stand-in for a real embedder). */
const blobs = defineNode({
  type: 'test.blob-embed',
  version: 1,
  category: 'Test',
  title: 'blob embedder',
  description: '',
  inputs: { in: { kind: 'dataset' } },
  outputs: { embeddings: { kind: 'embeddings' } },
  params: z.object({}),
  deterministic: true,
  async run(ctx) {
    const conn = await ctx.duckdb();
    const { texts } = await readIdsAndTexts(conn, ctx.input('in'), 'text');
    const rand = mulberry32(5);
    const m = new Float32Array(texts.length * DIM);
    texts.forEach((t, i) => {
      for (let j = 0; j < DIM; j++) m[i * DIM + j] = (t.startsWith('agent') ? (j < 8 ? 3 : 0) : j >= 8 ? 3 : 0) + (rand() - 0.5);
    });
    await writeEmbeddings(conn, ctx.output('embeddings'), m, ctx.input('in'), {
      dim: DIM,
      count: texts.length,
      model: 'blobs',
      modelHash: '',
      normalized: false,
      pooling: 'none',
      dataset: ctx.input('in').hash,
    });
  },
  module: import.meta.url,
});
const registry = new NodeRegistry([...NODE_TYPES, blobs]);

const jsonl = Array.from({ length: 120 }, (_, i) => JSON.stringify({ id: `r${i}`, text: `${i % 3 === 0 ? 'agent' : 'prose'} document ${i}`, kind: i % 3 === 0 ? 'agent' : 'prose' })).join('\n');

function separation(points: Record<string, unknown>[]): number {
  const groups = new Map<string, [number, number][]>();
  for (const p of points) groups.set(String(p.color), [...(groups.get(String(p.color)) ?? []), [Number(p.x), Number(p.y)]]);
  const stats = [...groups.values()].map((g) => {
    const cx = g.reduce((a, p) => a + p[0], 0) / g.length;
    const cy = g.reduce((a, p) => a + p[1], 0) / g.length;
    return { cx, cy, spread: g.reduce((a, p) => a + Math.hypot(p[0] - cx, p[1] - cy), 0) / g.length };
  });
  const [a, b] = stats as [(typeof stats)[number], (typeof stats)[number]];
  return Math.hypot(a.cx - b.cx, a.cy - b.cy) / Math.max(a.spread, b.spread);
}

describe('view.projection node', () => {
  for (const method of ['umap', 'pca'] as const) {
    it(`${method}: separates two sources and colours points by a dataset column`, async () => {
      const run = await runGraph(
        graph(
          [
            { id: 'src', type: 'source.jsonl', params: { path: 'd.jsonl', idField: 'id' } },
            { id: 'emb', type: 'test.blob-embed' },
            { id: 'proj', type: 'view.projection', params: { method, colorBy: 'kind', maxPoints: 90 } },
          ],
          [
            ['src.out', 'emb.in'],
            ['emb.embeddings', 'proj.embeddings'],
            ['src.out', 'proj.dataset'],
          ],
        ),
        { registry, files: { 'd.jsonl': jsonl } },
      );
      try {
        expect(run.outcome('proj').error).toBeUndefined();
        const points = await run.rows('proj', 'points');
        // Stratified sample: 40 agent + 80 prose → 30 + 60 of 90.
        expect(points.filter((p) => p.color === 'agent')).toHaveLength(30);
        expect(points.filter((p) => p.color === 'prose')).toHaveLength(60);
        expect(separation(points)).toBeGreaterThan(3);
        const chart = run.json('proj', 'chart', 'chart.json') as { encoding: { color: { field: string } }; data: { values: unknown[] } };
        expect(chart.encoding.color.field).toBe('kind');
        expect(chart.data.values).toHaveLength(90);
      } finally {
        run.close();
      }
    });
  }
});
