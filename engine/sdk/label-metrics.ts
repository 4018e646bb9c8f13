/**
 * Precision and recall of a keep / reject decision on a whole pool, estimated from a stratified
 * labelled sample. Pure (no Node APIs): the labelling node and the renderer's live panel share it,
 * so the figures the user watches while labelling are the ones the node reports.
 *
 * Each labelled document stands for `stratum size / labelled in its stratum` pool documents
 * (the inverse of its inclusion probability), so over-sampling the small kept side does not bias
 * the estimate. Intervals are 95 % Wilson intervals on the Kish effective sample size
 * (Σw)² / Σw², the usual way to carry a weighted proportion's uncertainty.
 */

export type Side = 'kept' | 'rejected';

export interface SampledDoc {
  side: Side;
  stratum: string;
  /** Pool documents in this document's stratum. */
  stratumSize: number;
  /** true = agent, false = not agent, null = not labelled yet. */
  label: boolean | null;
}

export interface PoolEstimate {
  labelled: number;
  sampled: number;
  /** Weighted counts: estimated pool documents. */
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  precision: number;
  precisionLow: number;
  precisionHigh: number;
  recall: number;
  recallLow: number;
  recallHigh: number;
}

/** Wilson score interval for a proportion p observed on n (possibly fractional, effective) trials. */
export function wilsonIntervalOf(p: number, n: number, z = 1.96): [number, number] {
  if (!(n > 0) || !Number.isFinite(p)) return [NaN, NaN];
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Weighted proportion of `hit` among items, with its interval on the effective sample size. */
function weightedProportion(items: { w: number; hit: boolean }[]): { p: number; low: number; high: number } {
  let sw = 0;
  let sw2 = 0;
  let hit = 0;
  for (const it of items) {
    sw += it.w;
    sw2 += it.w * it.w;
    if (it.hit) hit += it.w;
  }
  if (sw <= 0) return { p: NaN, low: NaN, high: NaN };
  const p = hit / sw;
  const [low, high] = wilsonIntervalOf(p, (sw * sw) / sw2);
  return { p, low, high };
}

export function estimatePoolMetrics(docs: readonly SampledDoc[]): PoolEstimate {
  const labelledIn = new Map<string, number>();
  for (const d of docs) if (d.label !== null) labelledIn.set(d.stratum, (labelledIn.get(d.stratum) ?? 0) + 1);
  const weighted = docs.filter((d) => d.label !== null).map((d) => ({ side: d.side, agent: d.label === true, w: d.stratumSize / (labelledIn.get(d.stratum) ?? 1) }));
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const d of weighted) {
    if (d.side === 'kept' && d.agent) tp += d.w;
    else if (d.side === 'kept') fp += d.w;
    else if (d.agent) fn += d.w;
  }
  const precision = weightedProportion(weighted.filter((d) => d.side === 'kept').map((d) => ({ w: d.w, hit: d.agent })));
  const recall = weightedProportion(weighted.filter((d) => d.agent).map((d) => ({ w: d.w, hit: d.side === 'kept' })));
  return {
    labelled: weighted.length,
    sampled: docs.length,
    truePositives: tp,
    falsePositives: fp,
    falseNegatives: fn,
    precision: precision.p,
    precisionLow: precision.low,
    precisionHigh: precision.high,
    recall: recall.p,
    recallLow: recall.low,
    recallHigh: recall.high,
  };
}

export interface Interval {
  value: number;
  low?: number;
  high?: number;
}

/**
 * Two estimates disagree when their intervals do not overlap; an estimate without an interval
 * counts as a point. Either value missing: no verdict.
 */
export function disagree(a: Interval, b: Interval): boolean {
  if (!Number.isFinite(a.value) || !Number.isFinite(b.value)) return false;
  const aLo = Number.isFinite(a.low) ? (a.low as number) : a.value;
  const aHi = Number.isFinite(a.high) ? (a.high as number) : a.value;
  const bLo = Number.isFinite(b.low) ? (b.low as number) : b.value;
  const bHi = Number.isFinite(b.high) ? (b.high as number) : b.value;
  return aHi < bLo || bHi < aLo;
}
