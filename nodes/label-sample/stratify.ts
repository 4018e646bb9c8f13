import { seededOrder } from '../_sdk/rng.js';
import type { Side } from '../../engine/sdk/label-metrics.js';

export interface PoolDoc {
  id: string;
  score: number | null;
  side: Side;
}

export interface Stratum {
  name: string;
  side: Side;
  /** Lowest and highest score in the stratum (null: unscored documents). */
  low: number | null;
  high: number | null;
  docs: PoolDoc[];
}

/**
 * Splits each side into up to `perSide` strata of (nearly) equal size by score rank. Scores near the
 * threshold are where the keep / reject decision is most often wrong, and equal-count bins give them
 * their own strata instead of letting the bulk of the pool swamp them. Unscored documents (e.g. never
 * retrieved) form one stratum of their own.
 */
export function stratify(docs: readonly PoolDoc[], perSide: number): Stratum[] {
  const out: Stratum[] = [];
  for (const side of ['kept', 'rejected'] as const) {
    const mine = docs.filter((d) => d.side === side);
    const scored = mine.filter((d) => d.score !== null && Number.isFinite(d.score)).sort((a, b) => (b.score as number) - (a.score as number) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const unscored = mine.filter((d) => d.score === null || !Number.isFinite(d.score));
    const bins = Math.min(perSide, scored.length);
    for (let b = 0; b < bins; b++) {
      const part = scored.slice(Math.floor((b * scored.length) / bins), Math.floor(((b + 1) * scored.length) / bins));
      out.push({ name: `${side}:${b + 1}`, side, high: part[0]?.score ?? null, low: part[part.length - 1]?.score ?? null, docs: part });
    }
    if (unscored.length > 0) out.push({ name: `${side}:unscored`, side, low: null, high: null, docs: unscored });
  }
  return out;
}

/**
 * Equal allocation: every stratum gets the same share of the sample (capped at its size, the rest
 * handed to strata that still have documents), so the small kept side and the thin band near the
 * threshold are labelled as often as the huge rejected bulk.
 */
export function allocate(sizes: readonly number[], total: number): number[] {
  const take = sizes.map(() => 0);
  let left = Math.min(
    total,
    sizes.reduce((s, n) => s + n, 0),
  );
  while (left > 0) {
    const open = sizes.map((n, i) => i).filter((i) => (take[i] as number) < (sizes[i] as number));
    const share = Math.max(1, Math.floor(left / open.length));
    for (const i of open) {
      if (left === 0) break;
      const add = Math.min(share, (sizes[i] as number) - (take[i] as number), left);
      take[i] = (take[i] as number) + add;
      left -= add;
    }
  }
  return take;
}

export interface SampledRow extends PoolDoc {
  stratum: string;
  stratumSize: number;
  stratumSample: number;
}

/**
 * The sample: each stratum's documents in a seeded order decided by their ids (so the same pool gives
 * the same sample whatever the input order), the first n of each; then all of them in one seeded order,
 * so a user who labels only the first k still covers every stratum.
 */
export function drawSample(strata: readonly Stratum[], total: number, seed: number): SampledRow[] {
  const take = allocate(
    strata.map((s) => s.docs.length),
    total,
  );
  const rows: SampledRow[] = [];
  strata.forEach((s, i) => {
    const n = take[i] as number;
    const order = seededOrder(
      s.docs.map((d) => d.id),
      seed,
      `label-sample:${s.name}`,
    );
    for (const k of order.slice(0, n)) rows.push({ ...(s.docs[k] as PoolDoc), stratum: s.name, stratumSize: s.docs.length, stratumSample: n });
  });
  const shown = seededOrder(
    rows.map((r) => `${r.side}\u0000${r.id}`),
    seed,
    'label-sample:order',
  );
  return shown.map((k) => rows[k] as SampledRow);
}
