/**
 * Token-budget mixing: each source gets share × total tokens, filled with whole documents in a
 * seeded order; a short source is repeated (epochs) up to a cap, and when even the cap cannot
 * meet a share, the whole mix shrinks so that every share still holds.
 */
import { seededOrder } from '../_sdk/rng.js';

export type Policy = 'upsample' | 'shrink';

export interface MixSource {
  name: string;
  ids: readonly string[];
  tokens: ArrayLike<number>;
}

export interface MixOptions {
  /** Target share of tokens per source, same order as the sources; sums to 1. */
  shares: readonly number[];
  totalTokens: number;
  policy: Policy;
  /** Most passes over a source under `upsample` (fractional allowed); `shrink` means 1. */
  maxEpochs: number;
  seed: number;
}

export interface Pick {
  source: number;
  doc: number;
  /** 1 for a document's first use, 2 for its first repeat, … */
  epoch: number;
}

export interface SourceResult {
  name: string;
  targetShare: number;
  targetTokens: number;
  tokens: number;
  documents: number;
  uniqueDocuments: number;
  availableTokens: number;
  availableDocuments: number;
  epochs: number;
}

export interface MixPlan {
  picks: Pick[];
  sources: SourceResult[];
  requestedTotal: number;
  /** The total after shrinking (= requested unless a source ran out). */
  targetTotal: number;
  totalTokens: number;
  scale: number;
  /** The source whose epoch cap forced the shrink, if any. */
  limitingSource: string | null;
}

export function planMix(sources: readonly MixSource[], opts: MixOptions): MixPlan {
  const cap = opts.policy === 'shrink' ? 1 : opts.maxEpochs;
  const available = sources.map((s) => sum(s.tokens));
  let scale = 1;
  let limiting: string | null = null;
  sources.forEach((s, i) => {
    const want = (opts.shares[i] as number) * opts.totalTokens;
    if (want <= 0) return;
    const can = cap * (available[i] as number);
    if (can < want * scale) {
      scale = can / want;
      limiting = s.name;
    }
  });
  const targetTotal = opts.totalTokens * scale;
  const picks: Pick[] = [];
  const results: SourceResult[] = sources.map((s, i) => {
    const target = (opts.shares[i] as number) * targetTotal;
    const avail = available[i] as number;
    let taken = 0;
    let documents = 0;
    const used = new Set<number>();
    if (target > 0 && avail > 0) {
      const fullEpochs = Math.floor(target / avail + 1e-12);
      for (let e = 1; e <= fullEpochs; e++) {
        for (const d of seededOrder(s.ids, opts.seed, `${s.name}:${e}`)) {
          picks.push({ source: i, doc: d, epoch: e });
          used.add(d);
        }
        taken += avail;
        documents += s.ids.length;
      }
      const rest = fill(s, target - taken, opts.seed, fullEpochs + 1);
      for (const d of rest) {
        picks.push({ source: i, doc: d, epoch: fullEpochs + 1 });
        used.add(d);
        taken += s.tokens[d] as number;
        documents++;
      }
    }
    return {
      name: s.name,
      targetShare: opts.shares[i] as number,
      targetTokens: target,
      tokens: taken,
      documents,
      uniqueDocuments: used.size,
      availableTokens: avail,
      availableDocuments: s.ids.length,
      epochs: avail > 0 ? taken / avail : 0,
    };
  });
  return { picks, sources: results, requestedTotal: opts.totalTokens, targetTotal, totalTokens: sum(results.map((r) => r.tokens)), scale, limitingSource: limiting };
}

/**
 * Whole documents adding up to about `budget` tokens from one (partial) epoch: first-fit in the
 * seeded order, then at most one more document if it overshoots by less than the remaining gap.
 * First-fit only prefers short documents at the very end of the budget.
 */
function fill(s: MixSource, budget: number, seed: number, epoch: number): number[] {
  if (budget <= 0) return [];
  const order = seededOrder(s.ids, seed, `${s.name}:${epoch}`);
  const chosen: number[] = [];
  const taken = new Set<number>();
  let cum = 0;
  for (const d of order) {
    const t = s.tokens[d] as number;
    if (cum + t <= budget) {
      chosen.push(d);
      taken.add(d);
      cum += t;
      if (cum === budget) return chosen;
    }
  }
  const gap = budget - cum;
  let best = -1;
  let bestOver = gap;
  for (const d of order) {
    if (taken.has(d)) continue;
    const over = cum + (s.tokens[d] as number) - budget;
    if (over < bestOver) {
      best = d;
      bestOver = over;
    }
  }
  if (best >= 0) chosen.push(best);
  return chosen;
}

function sum(xs: ArrayLike<number>): number {
  let t = 0;
  for (let i = 0; i < xs.length; i++) t += xs[i] as number;
  return t;
}

/**
 * The shares actually used. `agentShare`, when given, is the share of the first input; the
 * others split the rest in proportion to their configured shares (equally when none are given).
 * Returns an error message (and the offending field) instead of shares when they do not work.
 */
export function resolveShares(ports: readonly string[], shares: Partial<Record<string, number>>, agentShare: number | undefined): { shares: number[] } | { error: string; field: string } {
  for (const k of Object.keys(shares)) {
    if (!ports.includes(k)) return { error: `a share is set for input "${k}", which is not connected`, field: `shares.${k}` };
  }
  if (agentShare !== undefined) {
    const [first, ...rest] = ports;
    if (first === undefined) return { error: 'no inputs', field: 'agentShare' };
    if (rest.length === 0 && agentShare < 1) return { error: `agentShare ${agentShare} leaves ${1 - agentShare} of the tokens to other inputs, but only "${first}" is connected`, field: 'agentShare' };
    const weights = rest.map((p) => shares[p]);
    const given = weights.filter((w): w is number => w !== undefined);
    if (given.length > 0 && given.length < rest.length) {
      const missing = rest.find((p) => shares[p] === undefined) as string;
      return { error: `with agentShare, give shares for all other inputs or none (missing "${missing}")`, field: `shares.${missing}` };
    }
    const total = given.reduce((a, b) => a + b, 0);
    const restShares = rest.map((p) => (given.length === 0 ? 1 / rest.length : total > 0 ? (shares[p] as number) / total : 0));
    if (given.length > 0 && total <= 0 && agentShare < 1) return { error: "the other inputs' shares are all 0, so nothing can fill 1 − agentShare", field: 'shares' };
    return { shares: [agentShare, ...restShares.map((s) => s * (1 - agentShare))] };
  }
  const missing = ports.find((p) => shares[p] === undefined);
  if (missing !== undefined) return { error: `no share for input "${missing}" (give shares for every connected input, or agentShare)`, field: `shares.${missing}` };
  const values = ports.map((p) => shares[p] as number);
  const total = values.reduce((a, b) => a + b, 0);
  if (Math.abs(total - 1) > 1e-6) {
    return { error: `shares sum to ${+total.toFixed(6)}, not 1 (${ports.map((p, i) => `${p}: ${values[i]}`).join(', ')})`, field: 'shares' };
  }
  return { shares: values };
}
