/**
 * Held-out figures for a classifier over k labels: accuracy and, per label, precision / recall / F1
 * (one-vs-rest on the top label), with their unweighted means ("macro") so small classes count.
 */
export interface MultiClassMetrics {
  accuracy: number;
  macroPrecision: number;
  macroRecall: number;
  macroF1: number;
  perLabel: { label: string; support: number; precision: number; recall: number; f1: number }[];
}

export function multiClassMetrics(labels: readonly string[], actual: readonly string[], predicted: readonly string[]): MultiClassMetrics {
  let correct = 0;
  for (let i = 0; i < actual.length; i++) if (actual[i] === predicted[i]) correct++;
  const perLabel = labels.map((label) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < actual.length; i++) {
      const a = actual[i] === label;
      const p = predicted[i] === label;
      if (a && p) tp++;
      else if (p) fp++;
      else if (a) fn++;
    }
    const precision = tp + fp > 0 ? tp / (tp + fp) : NaN;
    const recall = tp + fn > 0 ? tp / (tp + fn) : NaN;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : NaN;
    return { label, support: tp + fn, precision, recall, f1 };
  });
  // Labels absent from the held-out rows have no recall; average over those that can be measured.
  const mean = (xs: number[]) => {
    const ok = xs.filter((x) => Number.isFinite(x));
    return ok.length > 0 ? ok.reduce((s, x) => s + x, 0) / ok.length : NaN;
  };
  return {
    accuracy: actual.length > 0 ? correct / actual.length : NaN,
    macroPrecision: mean(perLabel.filter((l) => l.support > 0).map((l) => (Number.isNaN(l.precision) ? 0 : l.precision))),
    macroRecall: mean(perLabel.filter((l) => l.support > 0).map((l) => l.recall)),
    macroF1: mean(perLabel.filter((l) => l.support > 0).map((l) => (Number.isNaN(l.f1) ? 0 : l.f1))),
    perLabel,
  };
}

/** fastText labels are single tokens: whitespace inside a label value becomes `_`. */
export function labelToken(value: string): string {
  return value.trim().replace(/\s+/g, '_');
}
