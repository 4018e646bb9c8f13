import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { NodeError } from '../../engine/sdk/node-error.js';
import { defineNode, type ArtifactRef, type InputItem } from '../../engine/sdk/types.js';
import { round, writeChart, writeMetrics, type MetricValue } from '../_sdk/report.js';
import { mulberry32 } from '../_sdk/rng.js';
import { surfaceChart } from './chart.js';
import { argminOn, evalLaw, evalRidge, fitLaw, fitRidge, quantile, simplexGrid, type LawFit, type RidgeFit } from './law.js';

const params = z.object({
  shares: z.array(z.string().min(1)).default([]).meta({
    title: 'Share keys',
    description: 'Sweep keys holding the domain shares, e.g. ["mix.shares.a", "mix.shares.b", "mix.shares.c"] (default: every swept key, sorted)',
  }),
  names: z.record(z.string(), z.string().min(1)).default({}).meta({ title: 'Domain names', description: '{ "<share key>": "agent" } for labels' }),
  metrics: z.array(z.string().min(1)).default([]).meta({ title: 'Benchmarks to fit', description: 'Default: every *.nll metric except all.nll / mean.nll' }),
  weights: z.record(z.string(), z.number().min(0)).default({}).meta({ title: 'Objective weights', description: 'Weight of each benchmark in the objective (default 1 each)' }),
  ridgeLambda: z.number().min(0).default(1e-4).meta({ title: 'Ridge λ (RegMix baseline)' }),
  bootstrap: z.number().int().min(0).max(5000).default(200).meta({ title: 'Bootstrap resamples', description: "For the optimum's uncertainty (0: none)" }),
  gridSteps: z
    .number()
    .int()
    .min(4)
    .max(400)
    .default(100)
    .meta({ title: 'Simplex grid steps', description: 'The optimum is searched on shares in multiples of 1/steps, within the sampled range of each share' }),
});

interface Point {
  r: number[];
  values: Record<string, number>;
}

function readValues(ref: ArtifactRef): Record<string, number> {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(join(ref.dir, 'metrics.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    raw = ref.manifest.meta;
  }
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(raw)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
}

function readPoints(items: InputItem[], keys: string[]): Point[] {
  return items.map((item, i) => {
    const r = keys.map((k) => Number(item.variant[k]));
    if (r.some((x) => !Number.isFinite(x))) throw new NodeError(`point ${i + 1} (from ${item.fromNode}) has no value for ${keys.join(', ')} in its sweep variant`, { field: 'params.shares' });
    const total = r.reduce((a, b) => a + b, 0);
    if (Math.abs(total - 1) > 1e-3) throw new NodeError(`point ${i + 1}: the shares ${keys.join(', ')} sum to ${total}, not 1`, { field: 'params.shares' });
    return { r, values: readValues(item.ref) };
  });
}

interface Fitted {
  law: LawFit[];
  ridge: RidgeFit[];
}

function fitAll(points: readonly Point[], names: readonly string[], lambda: number): Fitted {
  const R = points.map((p) => p.r);
  return {
    law: names.map((n) =>
      fitLaw(
        R,
        points.map((p) => p.values[n] as number),
      ),
    ),
    ridge: names.map((n) =>
      fitRidge(
        R,
        points.map((p) => p.values[n] as number),
        lambda,
      ),
    ),
  };
}

export default defineNode({
  type: 'fit.mixing-law',
  version: 1,
  category: 'Analysis',
  title: 'Multi-domain mixing law',
  description:
    'Fits the multi-domain data mixing law L = c + k·exp(Σ t_j·r_j) per benchmark over a Dirichlet sweep of domain shares, plus a RegMix-style ridge regression baseline; finds the shares minimising the weighted benchmark loss with a bootstrap interval; with validation metrics connected (a run trained at the predicted optimum) reports the realised loss beside the prediction and the best sampled mix. Chart: the fitted surface (ternary for three domains, a slice otherwise).',
  inputs: {
    points: { kind: 'metrics', title: 'benchmark loss per sweep variant', multiple: true },
    validation: { kind: 'metrics', title: 'loss at the predicted optimum (optional)', optional: true },
  },
  outputs: { metrics: { kind: 'metrics', title: 'fits, optimum, validation' }, chart: { kind: 'chart', title: 'fitted mixing surface' } },
  params,
  deterministic: true,
  async run(ctx) {
    const p = ctx.params;
    const items = ctx.inputs('points');
    if (items.length === 0) throw new NodeError('no points: connect the benchmark metrics of a share sweep', { field: 'inputs.points' });
    const keys = p.shares.length > 0 ? p.shares : [...new Set(items.flatMap((i) => Object.keys(i.variant)))].sort();
    if (keys.length < 2) throw new NodeError(`need at least two share keys; the points vary over ${keys.join(', ') || 'nothing'}`, { field: 'params.shares' });
    const points = readPoints(items, keys);
    const common = Object.keys(points[0]?.values ?? {}).filter((k) => points.every((pt) => k in pt.values));
    const names = p.metrics.length > 0 ? p.metrics : common.filter((k) => k.endsWith('.nll') && k !== 'all.nll' && k !== 'mean.nll');
    for (const n of names) if (!common.includes(n)) throw new NodeError(`metric ${n} is missing from some points (have: ${common.join(', ')})`, { field: 'params.metrics' });
    if (names.length === 0) throw new NodeError('no benchmark metric to fit', { field: 'params.metrics' });
    if (points.length < keys.length + 1) throw new NodeError(`${points.length} points for ${keys.length} domains: the law needs at least ${keys.length + 1}`, { field: 'inputs.points' });
    const w = names.map((n) => p.weights[n] ?? 1);
    const wsum = w.reduce((a, b) => a + b, 0);
    if (wsum <= 0) throw new NodeError('the objective weights sum to 0', { field: 'params.weights' });
    const label = (k: string) => p.names[k] ?? k.split('.').pop() ?? k;

    const fitted = fitAll(points, names, p.ridgeLambda);
    const objective = (f: Fitted, kind: 'law' | 'ridge') => (r: number[]) =>
      names.reduce((a, _n, i) => a + (w[i] as number) * (kind === 'law' ? evalLaw(f.law[i] as LawFit, r) : evalRidge(f.ridge[i] as RidgeFit, r)), 0) / wsum;
    const lo = keys.map((_, j) => Math.min(...points.map((pt) => pt.r[j] as number)));
    const hi = keys.map((_, j) => Math.max(...points.map((pt) => pt.r[j] as number)));
    const grid = simplexGrid(keys.length, p.gridSteps, lo, hi);
    if (grid.length === 0) throw new NodeError('no grid point lies within the sampled share ranges; raise gridSteps', { field: 'params.gridSteps' });
    const optLaw = argminOn(grid, objective(fitted, 'law'));
    const optRidge = argminOn(grid, objective(fitted, 'ridge'));
    const observed = points.map((pt) => names.reduce((a, n, i) => a + (w[i] as number) * (pt.values[n] as number), 0) / wsum);
    const bestIdx = observed.indexOf(Math.min(...observed));
    const best = points[bestIdx] as Point;

    // Bootstrap: refit on resampled points, collect the optimum's shares.
    const rand = mulberry32(ctx.seed ^ 0x6d1f);
    const samples: number[][] = [];
    let failed = 0;
    for (let b = 0; b < p.bootstrap; b++) {
      const res = points.map(() => points[Math.floor(rand() * points.length)] as Point);
      if (new Set(res.map((pt) => pt.r.join(','))).size < keys.length + 1) {
        failed++;
        continue;
      }
      try {
        samples.push(argminOn(grid, objective(fitAll(res, names, p.ridgeLambda), 'law')).r);
      } catch {
        failed++;
      }
    }

    const m: Record<string, MetricValue> = { points: points.length, domains: keys.length, benchmarks: names.join(','), grid_points: grid.length };
    names.forEach((n, i) => {
      const lf = fitted.law[i] as LawFit;
      m[`${n}.law.c`] = round(lf.c, 6);
      m[`${n}.law.k`] = round(lf.k, 6);
      keys.forEach((k, j) => (m[`${n}.law.t.${label(k)}`] = round(lf.t[j] as number, 6)));
      m[`${n}.law.r2`] = round(lf.r2, 6);
      m[`${n}.ridge.r2`] = round((fitted.ridge[i] as RidgeFit).r2, 6);
    });
    keys.forEach((k, j) => {
      m[`optimum.${k}`] = round(optLaw.r[j] as number, 6);
      m[`ridge.optimum.${k}`] = round(optRidge.r[j] as number, 6);
      m[`best_sampled.${k}`] = round(best.r[j] as number, 6);
      if (samples.length > 0) {
        const s = samples.map((r) => r[j] as number).sort((a, b) => a - b);
        const mean = s.reduce((a, b) => a + b, 0) / s.length;
        m[`optimum.${k}.sd`] = round(Math.sqrt(s.reduce((a, x) => a + (x - mean) ** 2, 0) / Math.max(1, s.length - 1)), 6);
        m[`optimum.${k}.p05`] = round(quantile(s, 0.05), 6);
        m[`optimum.${k}.p95`] = round(quantile(s, 0.95), 6);
      }
    });
    m['optimum.predicted_loss'] = round(optLaw.y, 6);
    m['ridge.optimum.predicted_loss'] = round(optRidge.y, 6);
    m['best_sampled.loss'] = round(observed[bestIdx] as number, 6);
    m.bootstrap_samples = samples.length;
    m.bootstrap_failed = failed;

    const valRef = ctx.optionalInput('validation');
    let validation: number | undefined;
    if (valRef) {
      const v = readValues(valRef);
      const missing = names.filter((n) => !(n in v));
      if (missing.length > 0) throw new NodeError(`the validation metrics lack ${missing.join(', ')}`, { field: 'inputs.validation' });
      validation = names.reduce((a, n, i) => a + (w[i] as number) * (v[n] as number), 0) / wsum;
      m['validation.loss'] = round(validation, 6);
      m['validation.minus_best_sampled'] = round(validation - (observed[bestIdx] as number), 6);
      m['validation.minus_predicted'] = round(validation - optLaw.y, 6);
      names.forEach((n) => (m[`validation.${n}`] = round(v[n] as number, 6)));
    }
    writeMetrics(ctx.output('metrics'), m);
    await writeChart(
      ctx.output('chart'),
      surfaceChart({
        labels: keys.map(label),
        grid,
        predicted: grid.map(objective(fitted, 'law')),
        points: points.map((pt, i) => ({ r: pt.r, loss: observed[i] as number })),
        optimum: optLaw.r,
        bestSampled: best.r,
        validation,
      }),
    );
    const fmt = (r: number[]) => keys.map((k, j) => `${label(k)} ${(r[j] as number).toFixed(2)}`).join(', ');
    ctx.log(
      `${points.length} mixes, ${names.length} benchmark(s): law R² ${fitted.law.map((f) => f.r2.toFixed(3)).join('/')}, ridge R² ${fitted.ridge.map((f) => f.r2.toFixed(3)).join('/')}; optimum ${fmt(optLaw.r)} (predicted ${optLaw.y.toFixed(4)}), ridge ${fmt(optRidge.r)}, best sampled ${fmt(best.r)} (${(observed[bestIdx] as number).toFixed(4)})${validation !== undefined ? `; validation at the optimum: ${validation.toFixed(4)}` : ''}`,
    );
  },
  module: import.meta.url,
});
