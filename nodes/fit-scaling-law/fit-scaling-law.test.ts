import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { NodeRegistry } from '../../engine/registry.js';
import { defineNode } from '../../engine/sdk/types.js';
import { writeMetrics } from '../_sdk/report.js';
import { cleanupTempDirs, closeExecutor, graph, runGraph } from '../_sdk/testing/graph.js';
import { NODE_TYPES } from '../index.js';
import { argmin, evalExp, fitExp, fitQuadratic } from './fit.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

// Two benchmarks as in the Hephaestus sweep: agent loss falls with the agent share, general loss rises.
const agent = (r: number) => 2 + 0.5 * Math.exp(-3 * r);
const general = (r: number) => 1.5 + 0.1 * Math.exp(2 * r);
// Small deterministic "noise" so the fit is not exact.
const noise = (i: number) => 0.002 * Math.sin(12.9898 * (i + 1));
const GRID = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
// d/dr of the mean: −1.5·e^(−3r) + 0.2·e^(2r) = 0 → r* = ln(7.5)/5
const R_STAR = Math.log(7.5) / 5;

const synthetic = defineNode({
  type: 'test.synthetic-loss',
  version: 1,
  category: 'Test',
  title: 'synthetic loss',
  description: 'metrics of two known curves at r',
  inputs: {},
  outputs: { metrics: { kind: 'metrics' } },
  params: z.object({ r: z.number().default(0), i: z.number().int().default(0), x: z.number().optional() }),
  deterministic: true,
  async run(ctx) {
    const { r, i } = ctx.params;
    const m: Record<string, number> = { 'agent.nll': agent(r) + noise(i), 'general.nll': general(r) - noise(i + 3), 'all.nll': 0, tokens: 1000 };
    if (ctx.params.x !== undefined) m.share = ctx.params.x;
    writeMetrics(ctx.output('metrics'), m);
  },
  module: import.meta.url,
});
const registry = new NodeRegistry([...NODE_TYPES, synthetic]);

describe('fits', () => {
  it('recovers c, k, t of L(r) = c + k·exp(t·r) from noisy points', () => {
    const ys = GRID.map((r, i) => agent(r) + noise(i));
    const f = fitExp(GRID, ys);
    expect(f.c).toBeCloseTo(2, 1);
    expect(Math.abs(f.k - 0.5) / 0.5).toBeLessThan(0.03);
    expect(Math.abs(f.t + 3) / 3).toBeLessThan(0.03);
    expect(f.r2).toBeGreaterThan(0.999);
    // Without noise, exactly.
    const exact = fitExp(GRID, GRID.map(general));
    expect(exact.c).toBeCloseTo(1.5, 6);
    expect(exact.k).toBeCloseTo(0.1, 6);
    expect(exact.t).toBeCloseTo(2, 5);
  });

  it('recovers a quadratic and finds its vertex', () => {
    const q = (r: number) => 3 - 2 * r + 4 * r * r; // vertex at r = 0.25
    const f = fitQuadratic(GRID, GRID.map(q));
    expect(f.a).toBeCloseTo(3, 9);
    expect(f.b).toBeCloseTo(-2, 9);
    expect(f.c).toBeCloseTo(4, 9);
    expect(argmin((x) => f.a + f.b * x + f.c * x * x, 0, 0.9).x).toBeCloseTo(0.25, 6);
    expect(argmin((x) => evalExp({ c: 0, k: 1, t: 1, sse: 0, r2: 1 }, x), 0, 0.9).x).toBeCloseTo(0, 6);
  });
});

describe('fit.scaling-law node', () => {
  it('fits every point of a sweep collected on its fan-in port and finds the optimum ratio', async () => {
    const doc = graph(
      [
        { id: 'mix', type: 'test.synthetic-loss', params: { r: 0 }, sweep: { param: 'r', values: GRID } },
        { id: 'fit', type: 'fit.scaling-law', params: {} },
      ],
      [['mix.metrics', 'fit.points']],
    );
    const run = await runGraph(doc, { registry });
    try {
      expect(run.outcome('fit').error).toBeUndefined();
      const m = run.metrics('fit');
      expect(m).toMatchObject({ param: 'mix.r', points: 10, metrics_fitted: 'agent.nll,general.nll', 'optimum.form': 'exp', 'optimum.at_edge': 0 });
      expect(Number(m['agent.nll.exp.t'])).toBeCloseTo(-3, 0);
      expect(Number(m['general.nll.exp.t'])).toBeCloseTo(2, 0);
      expect(Math.abs(Number(m.optimum) - R_STAR)).toBeLessThan(0.01);
      expect(Number(m['objective.observed.argmin'])).toBe(0.4);
      const chart = run.json('fit', 'chart', 'chart.json') as { facet: unknown; data: { values: { metric: string; kind: string }[] } };
      expect(new Set(chart.data.values.map((v) => v.metric))).toEqual(new Set(['agent.nll', 'general.nll', 'objective']));
      expect(chart.data.values.filter((v) => v.kind === 'observed')).toHaveLength(30);
    } finally {
      run.close();
    }
  });

  it('also fits several metrics nodes wired to the fan-in port outside a sweep (x from a metric)', async () => {
    const nodes = GRID.slice(0, 6).map((r, i) => ({ id: `p${i}`, type: 'test.synthetic-loss', params: { r, i, x: r } }));
    const doc = graph(
      [...nodes, { id: 'fit', type: 'fit.scaling-law', params: { param: 'share', metrics: ['agent.nll'] } }],
      nodes.map((n) => [`${n.id}.metrics`, 'fit.points'] as [string, string]),
    );
    const run = await runGraph(doc, { registry });
    try {
      expect(run.outcome('fit').error).toBeUndefined();
      const m = run.metrics('fit');
      expect(m.points).toBe(6);
      expect(Math.abs(Number(m['agent.nll.exp.t']) + 3)).toBeLessThan(0.3);
      expect(m['optimum.at_edge']).toBe(1); // a falling loss alone has its optimum at the end of the grid
    } finally {
      run.close();
    }
  });

  it('leaves points outside [xMin, xMax] out of the fit but in the chart', async () => {
    const doc = graph(
      [
        { id: 'mix', type: 'test.synthetic-loss', params: { r: 0 }, sweep: { param: 'r', values: GRID } },
        { id: 'fit', type: 'fit.scaling-law', params: { xMin: 0.1 } },
      ],
      [['mix.metrics', 'fit.points']],
    );
    const run = await runGraph(doc, { registry });
    try {
      const m = run.metrics('fit');
      expect(m).toMatchObject({ points: 9, excluded_points: 1, range_min: 0.1 });
      expect(Math.abs(Number(m.optimum) - R_STAR)).toBeLessThan(0.01);
      const chart = run.json('fit', 'chart', 'chart.json') as { data: { values: { kind: string; x: number }[] } };
      expect(chart.data.values.filter((v) => v.kind === 'excluded').map((v) => v.x)).toEqual([0, 0, 0]);
    } finally {
      run.close();
    }
  });

  it('too few points is a node error', async () => {
    const doc = graph(
      [
        { id: 'mix', type: 'test.synthetic-loss', params: { r: 0 }, sweep: { param: 'r', values: [0.1, 0.2] } },
        { id: 'fit', type: 'fit.scaling-law', params: {} },
      ],
      [['mix.metrics', 'fit.points']],
    );
    const run = await runGraph(doc, { registry });
    try {
      expect(run.outcome('fit')).toMatchObject({ state: 'failed', outputs: [], location: { nodeId: 'fit', field: 'inputs.points' } });
    } finally {
      run.close();
    }
  });
});
