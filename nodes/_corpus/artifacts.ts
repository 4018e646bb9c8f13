import { writeFileSync } from 'node:fs';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { OutputBuilder } from '../../engine/sdk/types.js';

export type MetricValue = number | string;
export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** A metrics artifact: `metrics.json` (flat name → number | string) and each value in the manifest meta. */
export function writeMetrics(out: OutputBuilder, metrics: Record<string, MetricValue>): Record<string, MetricValue> {
  const clean: Record<string, MetricValue> = {};
  for (const [k, v] of Object.entries(metrics)) {
    // JSON has no NaN/Infinity; say what it was rather than writing null.
    clean[k] = typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;
  }
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
  const compiled = vl.compile(spec as unknown as vl.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * A chart artifact: `chart.json`, a complete Vega-Lite v6 spec with inline data, and `chart.svg`
 * rendered from it so the CLI and file browsers have something to show.
 */
export async function writeChart(out: OutputBuilder, spec: Record<string, unknown>, meta: Record<string, string | number> = {}): Promise<void> {
  const full = { $schema: VEGA_LITE_SCHEMA, ...spec };
  writeFileSync(out.file('chart.json'), `${JSON.stringify(full, null, 2)}\n`);
  writeFileSync(out.file('chart.svg'), await renderSvg(full));
  out.setMeta('format', 'vega-lite@6');
  if (typeof spec.title === 'string') out.setMeta('title', spec.title);
  for (const [k, v] of Object.entries(meta)) out.setMeta(k, v);
}
