import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { NodeRegistry } from '../../engine/registry.js';
import { defineNode } from '../../engine/sdk/types.js';
import { writeMetrics } from '../_sdk/report.js';
import { cleanupTempDirs, closeExecutor, graph, runGraph } from '../_sdk/testing/graph.js';
import { NODE_TYPES } from '../index.js';
import { argminOn, evalLaw, fitLaw, fitRidge, evalRidge, lstsq, simplexGrid } from './law.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

// Three domains (agent, code, text). Agent benchmark loss falls with the agent and code shares;
// the text benchmark falls with the text share. Known laws, small deterministic noise.
const agentLaw = (r: readonly number[]) => 2 + 0.8 * Math.exp(-3 * (r[0] as number) - 1 * (r[1] as number));
const textLaw = (r: readonly number[]) => 1.5 + 0.6 * Math.exp(-2.5 * (r[2] as number));
const noise = (i: number) => 0.001 * Math.sin(12.9898 * (i + 1));

const synthetic = defineNode({
  type: 'test.three-domain-loss',
  version: 1,
  category: 'Test',
  title: 'three-domain loss',
  description: 'metrics of known mixing laws at shares a, b, c',
  inputs: {},
  outputs: { metrics: { kind: 'metrics' } },
  params: z.object({ shares: z.object({ a: z.number(), b: z.number(), c: z.number() }).default({ a: 0.3, b: 0.3, c: 0.4 }), i: z.number().int().default(0), offset: z.number().default(0) }),
  deterministic: true,
  async run(ctx) {
    const s = ctx.params.shares;
    const r = [s.a, s.b, s.c];
    const i = Math.round(s.a * 1e4);
    writeMetrics(ctx.output('metrics'), { 'agent.nll': agentLaw(r) + noise(i) + ctx.params.offset, 'text.nll': textLaw(r) - noise(i + 7) + ctx.params.offset, 'all.nll': 0 });
  },
  module: import.meta.url,
});
const registry = new NodeRegistry([...NODE_TYPES, synthetic]);

describe('mixing-law math', () => {
  it('least squares solves an exactly determined system', () => {
    const x = lstsq(
      [
        [2, 1],
        [1, 3],
      ],
      [5, 10],
    );
    expect(x[0]).toBeCloseTo(1, 10);
    expect(x[1]).toBeCloseTo(3, 10);
  });

  it('recovers c, k and the t_j of a three-domain law (last t fixed at 0) and its optimum', () => {
    const R: number[][] = [];
    for (let a = 0; a <= 10; a += 2) for (let b = 0; a + b <= 10; b += 2) R.push([a / 10, b / 10, (10 - a - b) / 10]);
    const ys = R.map((r, i) => agentLaw(r) + noise(i));
    const f = fitLaw(R, ys);
    // exp(-3a - b) = exp(-3a - b + 0c): t = (-3, -1, 0).
    expect(f.c).toBeCloseTo(2, 1);
    expect(f.t[0]).toBeCloseTo(-3, 0);
    expect(f.t[1]).toBeCloseTo(-1, 0);
    expect(f.t[2]).toBe(0);
    expect(f.r2).toBeGreaterThan(0.999);
    for (const r of R) expect(Math.abs(evalLaw(f, r) - agentLaw(r))).toBeLessThan(0.01);
    const ridge = fitRidge(R, ys, 1e-6);
    expect(ridge.r2).toBeGreaterThan(0.95);
    expect(Math.abs(evalRidge(ridge, [0.5, 0.3, 0.2]) - agentLaw([0.5, 0.3, 0.2]))).toBeLessThan(0.05);
    const grid = simplexGrid(3, 20, [0, 0, 0], [1, 1, 1]);
    expect(grid).toHaveLength(231);
    // Agent loss alone is lowest with everything on agent data.
    expect(argminOn(grid, (r) => evalLaw(f, r)).r).toEqual([1, 0, 0]);
  });
});

describe('fit.mixing-law node', () => {
  it('fits a Dirichlet sweep, names the optimum with a bootstrap interval, and reports the validation run beside the best sampled mix', async () => {
    const doc = graph(
      [
        { id: 'loss', type: 'test.three-domain-loss', sweep: { dirichlet: { params: ['shares.a', 'shares.b', 'shares.c'], samples: 14, alpha: 1 } } },
        { id: 'fit', type: 'fit.mixing-law', params: { names: { 'loss.shares.a': 'agent', 'loss.shares.b': 'code', 'loss.shares.c': 'text' }, bootstrap: 60, gridSteps: 50 } },
        { id: 'at_opt', type: 'test.three-domain-loss', params: { shares: { a: 0.3, b: 0.2, c: 0.5 } } },
        { id: 'validate', type: 'fit.mixing-law', params: { bootstrap: 0, gridSteps: 50 } },
      ],
      [
        ['loss.metrics', 'fit.points'],
        ['loss.metrics', 'validate.points'],
        ['at_opt.metrics', 'validate.validation'],
      ],
      5,
    );
    const run = await runGraph(doc, { registry });
    try {
      expect(run.outcome('fit').error).toBeUndefined();
      const m = run.metrics('fit');
      expect(m.points).toBe(14);
      expect(Number(m['agent.nll.law.r2'])).toBeGreaterThan(0.99);
      expect(Number(m['text.nll.law.r2'])).toBeGreaterThan(0.99);
      // The true optimum of the mean of both laws, on the same grid and share ranges.
      const shares = ['a', 'b', 'c'].map((k) => Number(m[`optimum.loss.shares.${k}`]));
      expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      const trueObj = (r: number[]) => (agentLaw(r) + textLaw(r)) / 2;
      expect(trueObj(shares) - Number(m['best_sampled.loss'])).toBeLessThan(0.01);
      for (const k of ['a', 'b', 'c']) {
        const lo = Number(m[`optimum.loss.shares.${k}.p05`]);
        const hi = Number(m[`optimum.loss.shares.${k}.p95`]);
        expect(lo).toBeLessThanOrEqual(hi);
        expect(Number(m[`optimum.loss.shares.${k}.sd`])).toBeGreaterThanOrEqual(0);
      }
      expect(m.bootstrap_samples).toBeGreaterThan(40);
      const v = run.metrics('validate');
      const expected = (agentLaw([0.3, 0.2, 0.5]) + textLaw([0.3, 0.2, 0.5]) + noise(3000) - noise(3007)) / 2;
      expect(Number(v['validation.loss'])).toBeCloseTo(expected, 5);
      expect(Number(v['validation.minus_best_sampled'])).toBeCloseTo(Number(v['validation.loss']) - Number(v['best_sampled.loss']), 5);
      const chart = run.json('fit', 'chart', 'chart.json') as { layer: unknown[] };
      expect(chart.layer).toHaveLength(3); // ternary: surface, marks, corner labels
    } finally {
      run.close();
    }
  });
});
