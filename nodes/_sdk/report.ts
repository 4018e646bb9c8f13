import { writeFileSync } from 'node:fs';
import type { TopLevelSpec } from 'vega-lite';
import type { OutputBuilder } from '../../engine/sdk/types.js';

/**
 * `metrics` and `chart` artifacts as the UI, the CLI and the report node read them: `metrics.json` is
 * a flat object name → number | string (each value also set as manifest meta); `chart.json` is a
 * complete Vega-Lite v6 spec with its data inline, and `chart.svg` is rendered from it.
 */

export type MetricValue = number | string;
export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/**
 * JSON has no NaN / Infinity. NaN is an undefined metric (precision with no predicted positives,
 * a loss over zero tokens) and reads as "n/a"; an infinity is a real outcome (a perplexity that
 * overflowed) and keeps its name.
 */
function jsonSafe(v: MetricValue): MetricValue {
  if (typeof v !== 'number' || Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'n/a' : String(v);
}

/** Writes `metrics.json` and the same values as manifest meta; returns what was written. */
export function writeMetrics(out: OutputBuilder, metrics: Record<string, MetricValue>): Record<string, MetricValue> {
  const clean: Record<string, MetricValue> = {};
  for (const [k, v] of Object.entries(metrics)) clean[k] = jsonSafe(v);
  writeFileSync(out.file('metrics.json'), `${JSON.stringify(clean, null, 2)}\n`);
  for (const [k, v] of Object.entries(clean)) out.setMeta(k, v);
  return clean;
}

/** Rounds for display in charts and metrics without losing what matters. */
export function round(x: number, digits = 6): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Vega-Lite spec → SVG, headless (no canvas, no DOM). */
export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  // Loaded on first use: vega + vega-lite cost ~0.3 s to import, which nodes that only write metrics
  // (trainers, the retriever) should not pay in every worker.
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vl.compile(spec as unknown as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A tooltip line of a chart: the field, its Vega-Lite type and, for numbers, a d3 format (".4f", ","). */
export type TooltipField = readonly [field: string, type: 'nominal' | 'ordinal' | 'quantitative' | 'temporal', format?: string];

/** A Vega-Lite `tooltip` encoding listing these fields in order. */
export function tooltip(...fields: TooltipField[]): { field: string; type: string; format?: string }[] {
  return fields.map(([field, type, format]) => (format === undefined ? { field, type } : { field, type, format }));
}

/**
 * Writes `chart.json` (the spec with `$schema`) and `chart.svg`, so the CLI and file browsers have
 * something to show. The spec's string `title` becomes the manifest title; `meta` adds more.
 */
export async function writeChart(out: OutputBuilder, spec: Record<string, unknown>, meta: Record<string, string | number> = {}): Promise<void> {
  const full = { $schema: VEGA_LITE_SCHEMA, ...spec };
  writeFileSync(out.file('chart.json'), `${JSON.stringify(full, null, 2)}\n`);
  writeFileSync(out.file('chart.svg'), await renderSvg(full));
  out.setMeta('format', 'vega-lite@6');
  if (typeof spec.title === 'string') out.setMeta('title', spec.title);
  for (const [k, v] of Object.entries(meta)) out.setMeta(k, v);
}

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface BinaryMetrics extends Confusion {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
}

export function confusion(actual: ArrayLike<boolean>, predicted: ArrayLike<boolean>): Confusion {
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < actual.length; i++) {
    if (predicted[i]) {
      if (actual[i]) c.tp++;
      else c.fp++;
    } else if (actual[i]) c.fn++;
    else c.tn++;
  }
  return c;
}

export function binaryMetrics(c: Confusion): BinaryMetrics {
  const n = c.tp + c.fp + c.tn + c.fn;
  const precision = c.tp + c.fp > 0 ? c.tp / (c.tp + c.fp) : NaN;
  const recall = c.tp + c.fn > 0 ? c.tp / (c.tp + c.fn) : NaN;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : NaN;
  return { ...c, accuracy: n > 0 ? (c.tp + c.tn) / n : NaN, precision, recall, f1 };
}

/** The metric names both the classifier trainer and the threshold node report, in one order. */
export function binaryMetricValues(m: BinaryMetrics, averagePrecision: number): Record<string, number> {
  return {
    accuracy: m.accuracy,
    precision: m.precision,
    recall: m.recall,
    f1: m.f1,
    average_precision: averagePrecision,
    true_positives: m.tp,
    false_positives: m.fp,
    true_negatives: m.tn,
    false_negatives: m.fn,
  };
}

export interface PrPoint {
  threshold: number;
  precision: number;
  recall: number;
}

/**
 * Precision-recall curve over all distinct score thresholds (predict positive when score ≥ t),
 * plus average precision (step-wise area, as scikit-learn computes it). Downsampled to at most
 * `maxPoints` points for the chart; AP uses every threshold.
 */
export function prCurve(scores: ArrayLike<number>, actual: ArrayLike<boolean>, maxPoints = 200): { points: PrPoint[]; averagePrecision: number } {
  const idx = Array.from({ length: scores.length }, (_, i) => i).filter((i) => Number.isFinite(scores[i]!));
  idx.sort((a, b) => scores[b]! - scores[a]!);
  const positives = idx.reduce((s, i) => s + (actual[i] ? 1 : 0), 0);
  const all: PrPoint[] = [];
  let tp = 0;
  let fp = 0;
  let ap = 0;
  let prevRecall = 0;
  for (let j = 0; j < idx.length; j++) {
    const i = idx[j]!;
    if (actual[i]) tp++;
    else fp++;
    // Emit a point only after the last item of a run of equal scores.
    if (j + 1 < idx.length && scores[idx[j + 1]!] === scores[i]) continue;
    const precision = tp / (tp + fp);
    const recall = positives > 0 ? tp / positives : 0;
    ap += (recall - prevRecall) * precision;
    prevRecall = recall;
    all.push({ threshold: scores[i]!, precision, recall });
  }
  let points = all;
  if (all.length > maxPoints) {
    const step = (all.length - 1) / (maxPoints - 1);
    points = Array.from({ length: maxPoints }, (_, t) => all[Math.round(t * step)]!);
  }
  return { points, averagePrecision: positives > 0 ? ap : NaN };
}

/** Vega-Lite spec: the PR curve, with the operating point of the chosen threshold marked. */
export function prChartSpec(points: readonly PrPoint[], opts: { title: string; threshold?: number; operating?: { precision: number; recall: number } }): Record<string, unknown> {
  const layers: Record<string, unknown>[] = [
    {
      data: { values: points.map((p) => ({ recall: round(p.recall), precision: round(p.precision), threshold: round(p.threshold) })) },
      mark: { type: 'line', interpolate: 'step-after', point: false },
      encoding: {
        x: { field: 'recall', type: 'quantitative', scale: { domain: [0, 1] }, title: 'Recall' },
        y: { field: 'precision', type: 'quantitative', scale: { domain: [0, 1] }, title: 'Precision' },
        tooltip: tooltip(['threshold', 'quantitative', '.4f'], ['precision', 'quantitative', '.3f'], ['recall', 'quantitative', '.3f']),
      },
    },
  ];
  if (opts.operating && Number.isFinite(opts.operating.precision) && Number.isFinite(opts.operating.recall)) {
    layers.push({
      data: { values: [{ recall: round(opts.operating.recall), precision: round(opts.operating.precision), threshold: opts.threshold ?? null }] },
      mark: { type: 'point', filled: true, size: 90, color: '#d62728' },
      encoding: {
        x: { field: 'recall', type: 'quantitative' },
        y: { field: 'precision', type: 'quantitative' },
        tooltip: [{ field: 'threshold', type: 'quantitative', title: 'chosen threshold' }],
      },
    });
  }
  return { title: opts.title, width: 360, height: 300, layer: layers };
}

/** Vega-Lite spec: histogram of scores with the threshold as a rule (when no labels are available). */
export function scoreHistogramSpec(scores: ArrayLike<number>, opts: { title: string; threshold: number; bins?: number }): Record<string, unknown> {
  const bins = opts.bins ?? 40;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (!Number.isFinite(s)) continue;
    lo = Math.min(lo, s);
    hi = Math.max(hi, s);
  }
  if (!Number.isFinite(lo)) {
    lo = 0;
    hi = 1;
  }
  if (hi === lo) hi = lo + 1e-9;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (!Number.isFinite(s)) continue;
    counts[Math.min(bins - 1, Math.floor(((s - lo) / (hi - lo)) * bins))]! += 1;
  }
  const w = (hi - lo) / bins;
  return {
    title: opts.title,
    width: 360,
    height: 240,
    layer: [
      {
        data: { values: counts.map((c, b) => ({ from: round(lo + b * w), to: round(lo + (b + 1) * w), count: c })) },
        mark: 'bar',
        encoding: { x: { field: 'from', type: 'quantitative', bin: { binned: true }, title: 'score' }, x2: { field: 'to' }, y: { field: 'count', type: 'quantitative', title: 'rows' } },
      },
      { data: { values: [{ threshold: opts.threshold }] }, mark: { type: 'rule', color: '#d62728' }, encoding: { x: { field: 'threshold', type: 'quantitative' } } },
    ],
  };
}
