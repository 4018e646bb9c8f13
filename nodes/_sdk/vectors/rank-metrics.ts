/**
 * Ranking quality of a score vector against binary labels, and thresholds chosen from labels.
 * Higher scores mean "more likely positive"; NaN scores are never predicted positive.
 */

export interface RankQuality {
  positives: number;
  averagePrecision: number;
  /** Highest recall reachable while precision stays ≥ 0.8 / 0.9 (0 when never reached). */
  recallAtP80: number;
  recallAtP90: number;
  /** Precision among the top `positives` documents (R-precision). */
  precisionAtR: number;
}

interface Step {
  threshold: number;
  tp: number;
  fp: number;
}

/** One step per distinct score, best first: predicting positive at score ≥ threshold gives tp / fp. */
function steps(scores: ArrayLike<number>, labels: ArrayLike<boolean>): { steps: Step[]; positives: number } {
  const idx = Array.from({ length: scores.length }, (_, i) => i).filter((i) => !Number.isNaN(scores[i]!));
  idx.sort((a, b) => scores[b]! - scores[a]!);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]) positives++;
  const out: Step[] = [];
  let tp = 0;
  let fp = 0;
  for (let j = 0; j < idx.length; j++) {
    const i = idx[j]!;
    if (labels[i]) tp++;
    else fp++;
    if (j === idx.length - 1 || scores[idx[j + 1]!] !== scores[i]) out.push({ threshold: scores[i]!, tp, fp });
  }
  return { steps: out, positives };
}

export function rankQuality(scores: ArrayLike<number>, labels: ArrayLike<boolean>): RankQuality {
  const { steps: st, positives } = steps(scores, labels);
  let ap = 0;
  let prevRecall = 0;
  let r80 = 0;
  let r90 = 0;
  for (const s of st) {
    const precision = s.tp / (s.tp + s.fp);
    const recall = positives > 0 ? s.tp / positives : 0;
    ap += (recall - prevRecall) * precision;
    prevRecall = recall;
    if (precision >= 0.8) r80 = Math.max(r80, recall);
    if (precision >= 0.9) r90 = Math.max(r90, recall);
  }
  const order = Array.from({ length: scores.length }, (_, i) => i)
    .filter((i) => !Number.isNaN(scores[i]!))
    .sort((a, b) => scores[b]! - scores[a]! || a - b);
  let hit = 0;
  for (let j = 0; j < Math.min(positives, order.length); j++) if (labels[order[j]!]) hit++;
  return { positives, averagePrecision: positives > 0 ? ap : NaN, recallAtP80: r80, recallAtP90: r90, precisionAtR: positives > 0 ? hit / positives : NaN };
}

export interface ChosenThreshold {
  threshold: number;
  precision: number;
  recall: number;
  /** Why this value: the rule that picked it, in words (shown on the node). */
  reason: string;
}

/**
 * The threshold meeting a target on labelled rows: for a precision target, the lowest threshold
 * whose precision is still ≥ target (most recall at that precision); for a recall target, the
 * highest threshold whose recall is ≥ target (most precision at that recall). Undefined when no
 * threshold meets the target.
 */
export function thresholdForTarget(scores: ArrayLike<number>, labels: ArrayLike<boolean>, target: { metric: 'precision' | 'recall'; value: number }): ChosenThreshold | undefined {
  const { steps: st, positives } = steps(scores, labels);
  if (positives === 0) return undefined;
  const at = (s: Step) => ({ threshold: s.threshold, precision: s.tp / (s.tp + s.fp), recall: s.tp / positives });
  if (target.metric === 'precision') {
    let chosen: ReturnType<typeof at> | undefined;
    for (const s of st) {
      const p = at(s);
      if (p.precision >= target.value && (!chosen || p.recall >= chosen.recall)) chosen = p;
    }
    return chosen && { ...chosen, reason: `lowest threshold with precision ≥ ${target.value} on ${scores.length} labelled rows (${positives} positive): recall there ${chosen.recall.toFixed(3)}` };
  }
  for (const s of st) {
    const p = at(s);
    if (p.recall >= target.value)
      return { ...p, reason: `highest threshold with recall ≥ ${target.value} on ${scores.length} labelled rows (${positives} positive): precision there ${p.precision.toFixed(3)}` };
  }
  return undefined;
}

/** Wilson score interval of a proportion k / n at ~95 % (z = 1.96); [NaN, NaN] when n = 0. */
export function wilsonInterval(k: number, n: number, z = 1.96): [number, number] {
  if (n <= 0) return [NaN, NaN];
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}
