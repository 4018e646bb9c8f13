import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { NodeRegistry } from '../../engine/registry.js';
import { defineNode } from '../../engine/sdk/types.js';
import { writeMetrics } from '../_sdk/report.js';
import { cleanupTempDirs, closeExecutor, DATASETS, graph, runGraph } from '../_sdk/testing/graph.js';
import { NODE_TYPES } from '../index.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

// Stands in for fit.mixing-law: its optimum.<node>.shares.<port> metrics.
const fakeFit = defineNode({
  type: 'test.fake-fit',
  version: 1,
  category: 'Test',
  title: 'fake fit',
  description: 'an optimum as fit.mixing-law writes it',
  inputs: {},
  outputs: { metrics: { kind: 'metrics' } },
  params: z.object({ a: z.number(), b: z.number(), none: z.boolean().default(false) }),
  deterministic: true,
  async run(ctx) {
    const p = ctx.params;
    writeMetrics(ctx.output('metrics'), p.none ? { points: 3 } : { 'optimum.mix.shares.a': p.a, 'optimum.mix.shares.b': p.b, 'optimum.mix.shares.a.sd': 0.1, points: 3 });
  },
  module: import.meta.url,
});
const registry = new NodeRegistry([...NODE_TYPES, fakeFit]);

describe('transform.mixer sharesFrom', () => {
  it('mixes at the shares a fit predicts, ignoring its own share params; a fit without an optimum is a node error', async () => {
    const doc = (none: boolean) =>
      graph(
        [
          { id: 'agent', type: 'source.jsonl', params: { path: join(DATASETS, 'agent/torchhub_api.jsonl'), textField: 'api_call' } },
          { id: 'prose', type: 'source.text-folder', params: { pattern: join(DATASETS, 'prose/grimms-fairy-tales.txt'), unit: 'paragraph', minChars: 40 } },
          { id: 'fit', type: 'test.fake-fit', params: { a: 0.25, b: 0.75, none } },
          { id: 'mix', type: 'transform.mixer', params: { shares: { a: 0.9, b: 0.1 }, totalTokens: 20000 } },
        ],
        [
          ['agent.out', 'mix.a'],
          ['prose.out', 'mix.b'],
          ['fit.metrics', 'mix.sharesFrom'],
        ],
      );
    const run = await runGraph(doc(false), { registry });
    try {
      expect(run.outcome('mix').error).toBeUndefined();
      const m = run.metrics('mix');
      expect(m['a.target_share']).toBe(0.25);
      expect(m['b.target_share']).toBe(0.75);
      expect(Math.abs(Number(m['a.share']) - 0.25)).toBeLessThan(0.01);
    } finally {
      run.close();
    }
    const bad = await runGraph(doc(true), { registry });
    try {
      expect(bad.outcome('mix')).toMatchObject({ state: 'failed', location: { nodeId: 'mix', field: 'inputs.sharesFrom' } });
    } finally {
      bad.close();
    }
  });
});
