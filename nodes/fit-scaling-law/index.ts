import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { NodeError } from '../../engine/sdk/node-error.js';
import { defineNode, type InputItem } from '../../engine/sdk/types.js';
import { round, writeChart, writeMetrics, type MetricValue } from '../_sdk/report.js';
import { argmin, evalExp, evalPoly, fitExp, fitQuadratic, type ExpFit, type PolyFit } from './fit.js';

const params = z.object({
  param: z.string().optional().meta({
    title: 'Swept parameter',
    description: 'The variant key holding x, e.g. mix.agentShare (default: the only key the points vary over). Outside a sweep, a metric of that name is read instead',
  }),
  metrics: z.array(z.string().min(1)).default([]).meta({ title: 'Metrics to fit', description: 'Default: every *.nll metric except all.nll / mean.nll' }),
  weights: z.record(z.string(), z.number().min(0)).default({}).meta({ title: 'Objective weights', description: 'Weight of each metric in the combined objective (default 1 each)' }),
  xMin: z.number().optional().meta({ title: 'Fit from', description: 'Points below this value are shown but not fitted (e.g. 0, where one domain is absent entirely)' }),
  xMax: z.number().optional().meta({ title: 'Fit up to', description: 'Points above this value are shown but not fitted' }),
  form: z.enum(['exp', 'quadratic']).default('exp').meta({ title: 'Optimum from', description: 'Which fitted form decides the reported optimum' }),
});

interface Point {
  x: number;
  values: Record<string, number>;
}

interface Series {
  name: string;
  xs: number[];
  ys: number[];
  exp: ExpFit;
  poly: PolyFit;
}

const OBJECTIVE = 'objective';

function readPoints(items: InputItem[], param: string | undefined): { param: string; points: Point[] } {
  const keys = new Set(items.flatMap((i) => Object.keys(i.variant)));
  let key = param;
  if (!key) {
    if (keys.size === 1) key = [...keys][0] as string;
    else if (keys.size === 0) throw new NodeError('the points carry no sweep values; set the param to a metric that holds x, or put the producers in a sweep', { field: 'params.param' });
    else throw new NodeError(`the points vary over ${[...keys].join(', ')}; choose one as the param`, { field: 'params.param' });
  }
  const points = items.map((item, i) => {
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(readFileSync(join(item.ref.dir, 'metrics.json'), 'utf8')) as Record<string, unknown>;
    } catch {
      raw = item.ref.manifest.meta;
    }
    const values: Record<string, number> = {};
    for (const [k, v] of Object.entries(raw)) if (typeof v === 'number' && Number.isFinite(v)) values[k] = v;
    const xv = key in item.variant ? item.variant[key as string] : raw[key as string];
    const x = typeof xv === 'number' ? xv : typeof xv === 'string' ? Number(xv) : NaN;
    if (!Number.isFinite(x)) throw new NodeError(`point ${i + 1} (from ${item.fromNode}) has no numeric value for ${key}`, { field: 'params.param' });
    return { x, values };
  });
  return { param: key, points };
}

export function fitChart(param: string, series: Series[], objective: Series | null, optimum: { x: number; form: string } | null, excluded: Point[] = []): Record<string, unknown> {
  const rows: Record<string, unknown>[] = [];
  const all = objective ? [...series, objective] : series;
  for (const s of all) {
    for (const pt of excluded) if (s.name in pt.values) rows.push({ metric: s.name, kind: 'excluded', form: 'not fitted', x: round(pt.x, 6), value: round(pt.values[s.name] as number, 6) });
    s.xs.forEach((x, i) => rows.push({ metric: s.name, kind: 'observed', form: 'observed', x: round(x, 6), value: round(s.ys[i] as number, 6) }));
    const lo = Math.min(...s.xs);
    const hi = Math.max(...s.xs);
    for (let i = 0; i <= 60; i++) {
      const x = lo + ((hi - lo) * i) / 60;
      rows.push({ metric: s.name, kind: 'fit', form: 'c + k·exp(t·r)', x: round(x, 6), value: round(evalExp(s.exp, x), 6) });
      rows.push({ metric: s.name, kind: 'fit', form: 'quadratic', x: round(x, 6), value: round(evalPoly(s.poly, x), 6) });
    }
    if (optimum) rows.push({ metric: s.name, kind: 'optimum', form: `optimum (${optimum.form})`, x: round(optimum.x, 6) });
  }
  const x = { field: 'x', type: 'quantitative', title: param };
  return {
    title: { text: 'Loss vs mixing ratio', subtitle: optimum ? `optimum ${param} = ${optimum.x.toFixed(3)} (${optimum.form} fit of the ${OBJECTIVE})` : undefined },
    data: { values: rows },
    facet: { field: 'metric', type: 'nominal', title: null, sort: all.map((s) => s.name) },
    columns: Math.min(3, all.length),
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 220,
      height: 170,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'fit'" }],
          mark: { type: 'line', strokeWidth: 1.5 },
          encoding: {
            x,
            y: { field: 'value', type: 'quantitative', title: 'loss (NLL/token)', scale: { zero: false } },
            color: { field: 'form', type: 'nominal', title: 'fit', scale: { range: ['#4c78a8', '#f58518'] } },
            strokeDash: { field: 'form', type: 'nominal', title: 'fit' },
          },
        },
        {
          transform: [{ filter: "datum.kind === 'observed'" }],
          mark: { type: 'point', filled: true, color: 'black', size: 40, tooltip: true },
          encoding: { x, y: { field: 'value', type: 'quantitative' } },
        },
        {
          transform: [{ filter: "datum.kind === 'excluded'" }],
          mark: { type: 'point', filled: false, color: 'gray', size: 40, tooltip: true },
          encoding: { x, y: { field: 'value', type: 'quantitative' } },
        },
        { transform: [{ filter: "datum.kind === 'optimum'" }], mark: { type: 'rule', color: '#e45756', strokeWidth: 1.5 }, encoding: { x } },
      ],
    },
  };
}

export default defineNode({
  type: 'fit.scaling-law',
  version: 1,
  category: 'Evaluation',
  title: 'Fit mixing law',
  description:
    'Collects metrics from every variant of a sweep (fan-in), fits each loss metric against the swept ratio with the data-mixing law L(r) = c + k·exp(t·r) and a quadratic, combines them into one objective (weighted mean), and reports the optimal ratio within the grid with a chart of points and curves.',
  inputs: { points: { kind: 'metrics', title: 'metrics per sweep value', multiple: true } },
  outputs: { metrics: { kind: 'metrics', title: 'fits and optimum' }, chart: { kind: 'chart', title: 'loss vs ratio' } },
  params,
  deterministic: true,
  async run(ctx) {
    const p = ctx.params;
    const items = ctx.inputs('points');
    if (items.length === 0) throw new NodeError('no points: connect the metrics of a sweep (or several metrics nodes)', { field: 'inputs.points' });
    const { param, points: allPoints } = readPoints(items, p.param);
    const inRange = (x: number) => (p.xMin === undefined || x >= p.xMin) && (p.xMax === undefined || x <= p.xMax);
    const points = allPoints.filter((pt) => inRange(pt.x));
    const excluded = allPoints.filter((pt) => !inRange(pt.x)).sort((a, b) => a.x - b.x);
    const distinct = new Set(points.map((pt) => pt.x));
    if (distinct.size < 3) {
      throw new NodeError(`${distinct.size} distinct value(s) of ${param}${excluded.length > 0 ? ` in the fit range (${excluded.length} point(s) outside)` : ''}; fitting needs at least 3`, {
        field: excluded.length > 0 ? 'params.xMin' : 'inputs.points',
      });
    }
    const common = Object.keys(points[0]?.values ?? {}).filter((k) => points.every((pt) => k in pt.values));
    let names = p.metrics.length > 0 ? p.metrics : common.filter((k) => k.endsWith('.nll') && k !== 'all.nll' && k !== 'mean.nll');
    if (names.length === 0) names = common.filter((k) => k !== param);
    for (const n of names) if (!common.includes(n)) throw new NodeError(`metric ${n} is missing from some points (have: ${common.join(', ')})`, { field: 'params.metrics' });
    if (names.length === 0) throw new NodeError('no metric to fit', { field: 'params.metrics' });
    const sorted = [...points].sort((a, b) => a.x - b.x);
    const xs = sorted.map((pt) => pt.x);
    if (excluded.length > 0) ctx.log(`${excluded.length} point(s) outside the fit range: ${excluded.map((pt) => pt.x).join(', ')}`);
    const lo = xs[0] as number;
    const hi = xs[xs.length - 1] as number;
    const fitSeries = (name: string, ys: number[]): Series => ({ name, xs, ys, exp: fitExp(xs, ys), poly: fitQuadratic(xs, ys) });
    const series = names.map((n) =>
      fitSeries(
        n,
        sorted.map((pt) => pt.values[n] as number),
      ),
    );
    const w = names.map((n) => p.weights[n] ?? 1);
    const wsum = w.reduce((a, b) => a + b, 0);
    if (wsum <= 0) throw new NodeError('the objective weights sum to 0', { field: 'params.weights' });
    const objectiveY = sorted.map((pt) => names.reduce((a, n, i) => a + (w[i] as number) * (pt.values[n] as number), 0) / wsum);
    const objective = fitSeries(OBJECTIVE, objectiveY);

    const m: Record<string, MetricValue> = {
      param,
      points: points.length,
      excluded_points: excluded.length,
      distinct_values: distinct.size,
      range_min: lo,
      range_max: hi,
      metrics_fitted: names.join(','),
    };
    const observedArgmin = (ys: number[]) => {
      const byX = new Map<number, number[]>();
      xs.forEach((x, i) => byX.set(x, [...(byX.get(x) ?? []), ys[i] as number]));
      let best = { x: lo, y: Infinity };
      for (const [x, v] of byX) {
        const y = v.reduce((a, b) => a + b, 0) / v.length;
        if (y < best.y) best = { x, y };
      }
      return best;
    };
    for (const s of series) {
      m[`${s.name}.exp.c`] = round(s.exp.c, 6);
      m[`${s.name}.exp.k`] = round(s.exp.k, 6);
      m[`${s.name}.exp.t`] = round(s.exp.t, 6);
      m[`${s.name}.exp.r2`] = round(s.exp.r2, 6);
      m[`${s.name}.quadratic.a`] = round(s.poly.a, 6);
      m[`${s.name}.quadratic.b`] = round(s.poly.b, 6);
      m[`${s.name}.quadratic.c`] = round(s.poly.c, 6);
      m[`${s.name}.quadratic.r2`] = round(s.poly.r2, 6);
      m[`${s.name}.exp.argmin`] = round(argmin((x) => evalExp(s.exp, x), lo, hi).x, 6);
      m[`${s.name}.quadratic.argmin`] = round(argmin((x) => evalPoly(s.poly, x), lo, hi).x, 6);
      m[`${s.name}.observed.argmin`] = observedArgmin(s.ys).x;
    }
    // The objective's optimum: the argmin of the weighted mean of the fitted curves.
    const objExp = argmin((x) => series.reduce((a, s, i) => a + (w[i] as number) * evalExp(s.exp, x), 0) / wsum, lo, hi);
    const objPoly = argmin((x) => series.reduce((a, s, i) => a + (w[i] as number) * evalPoly(s.poly, x), 0) / wsum, lo, hi);
    const obs = observedArgmin(objectiveY);
    m['objective.exp.argmin'] = round(objExp.x, 6);
    m['objective.exp.min'] = round(objExp.y, 6);
    m['objective.quadratic.argmin'] = round(objPoly.x, 6);
    m['objective.quadratic.min'] = round(objPoly.y, 6);
    m['objective.observed.argmin'] = obs.x;
    m['objective.observed.min'] = round(obs.y, 6);
    const chosen = p.form === 'exp' ? objExp : objPoly;
    m.optimum = round(chosen.x, 6);
    m['optimum.loss'] = round(chosen.y, 6);
    m['optimum.form'] = p.form;
    const edge = (hi - lo) * 1e-3;
    m['optimum.at_edge'] = chosen.x - lo < edge || hi - chosen.x < edge ? 1 : 0;
    writeMetrics(ctx.output('metrics'), m);
    const excludedRows = excluded.map((pt) => ({ x: pt.x, values: { ...pt.values, [OBJECTIVE]: names.reduce((a, n, i) => a + (w[i] as number) * (pt.values[n] as number), 0) / wsum } }));
    await writeChart(ctx.output('chart'), fitChart(param, series, objective, { x: chosen.x, form: p.form === 'exp' ? 'exp' : 'quadratic' }, excludedRows));
    ctx.log(
      `${points.length} points over ${param} ∈ [${lo}, ${hi}]; ${series.map((s) => `${s.name}: ${s.exp.c.toFixed(3)} + ${s.exp.k.toFixed(3)}·exp(${s.exp.t.toFixed(3)}·r), R² ${s.exp.r2.toFixed(3)}`).join('; ')}; optimum ${param} = ${chosen.x.toFixed(4)} (${p.form}; quadratic ${objPoly.x.toFixed(4)}, observed ${obs.x})${m['optimum.at_edge'] ? ' — at the edge of the grid: widen it' : ''}`,
    );
  },
  module: import.meta.url,
});
