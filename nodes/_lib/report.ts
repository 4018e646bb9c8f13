import { writeFileSync } from 'node:fs';
import type { OutputBuilder } from '../../engine/sdk/types.js';

/**
 * `metrics` and `chart` artifacts as the UI reads them: `metrics.json` is a flat object
 * name → number | string (each value also set as manifest meta); `chart.json` is a complete
 * Vega-Lite v6 spec with its data inline.
 */

export type MetricValue = number | string;

export function writeMetrics(out: OutputBuilder, metrics: Record<string, MetricValue>): void {
  const clean: Record<string, MetricValue> = {};
  // JSON has no NaN / Infinity: undefined metrics (e.g. precision with no predicted positives) become "n/a".
  for (const [k, v] of Object.entries(metrics)) clean[k] = typeof v === 'number' && !Number.isFinite(v) ? 'n/a' : v;
  writeFileSync(out.file('metrics.json'), `${JSON.stringify(clean, null, 2)}\n`);
  for (const [k, v] of Object.entries(clean)) out.setMeta(k, v);
}

export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

export function writeChart(out: OutputBuilder, spec: Record<string, unknown>, title: string): void {
  writeFileSync(out.file('chart.json'), `${JSON.stringify({ $schema: VEGA_LITE_SCHEMA, ...spec }, null, 2)}\n`);
  out.setMeta('title', title);
  out.setMeta('library', 'vega-lite');
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

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** Vega-Lite spec: the PR curve, with the operating point of the chosen threshold marked. */
export function prChartSpec(points: readonly PrPoint[], opts: { title: string; threshold?: number; operating?: { precision: number; recall: number } }): Record<string, unknown> {
  const layers: Record<string, unknown>[] = [
    {
      data: { values: points.map((p) => ({ recall: round(p.recall), precision: round(p.precision), threshold: round(p.threshold) })) },
      mark: { type: 'line', interpolate: 'step-after', point: false },
      encoding: {
        x: { field: 'recall', type: 'quantitative', scale: { domain: [0, 1] }, title: 'Recall' },
        y: { field: 'precision', type: 'quantitative', scale: { domain: [0, 1] }, title: 'Precision' },
        tooltip: [
          { field: 'threshold', type: 'quantitative', format: '.4f' },
          { field: 'precision', type: 'quantitative', format: '.3f' },
          { field: 'recall', type: 'quantitative', format: '.3f' },
        ],
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
