import { round, tooltip } from '../_sdk/report.js';

/** Summed loss of one benchmark under one model. */
export interface Bench {
  name: string;
  nll: number;
  predictions: number;
  documents: number;
  unseen: number;
}

/** One model's scores, labelled for the per-checkpoint chart. */
export interface CheckpointScores {
  label: string;
  benches: Bench[];
}

/** One benchmark's chart row: mean NLL per token, perplexity and the tokens scored. */
function benchValues(b: Bench): { benchmark: string; nll: number; perplexity: number; tokens: number } {
  return { benchmark: b.name, nll: round(b.nll / b.predictions, 5), perplexity: round(Math.exp(b.nll / b.predictions), 3), tokens: b.predictions };
}

export function lossChart(benches: Bench[], title: string): Record<string, unknown> {
  return {
    title: { text: 'Benchmark loss', subtitle: title },
    data: { values: benches.map((b) => ({ ...benchValues(b), documents: b.documents })) },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      x: { field: 'benchmark', type: 'nominal', sort: null, title: null, axis: { labelAngle: 0 } },
      y: { field: 'nll', type: 'quantitative', title: 'mean NLL per token (nats)' },
      color: { field: 'benchmark', type: 'nominal', legend: null },
      tooltip: tooltip(['benchmark', 'nominal'], ['nll', 'quantitative', '.4f'], ['perplexity', 'quantitative', '.2f'], ['tokens', 'quantitative', ','], ['documents', 'quantitative']),
    },
    width: 280,
    height: 220,
  };
}

/**
 * Benchmark loss at each checkpoint, in training order (the paper's Fig. 5b): one line per
 * benchmark across the stages, so a stage that helps one benchmark and hurts another shows.
 */
export function checkpointLossChart(checkpoints: readonly CheckpointScores[], subtitle: string): Record<string, unknown> {
  const order = checkpoints.map((c) => c.label);
  return {
    title: { text: 'Benchmark loss per checkpoint', subtitle },
    data: { values: checkpoints.flatMap((c) => c.benches.map((b) => ({ checkpoint: c.label, ...benchValues(b) }))) },
    mark: { type: 'line', point: true, tooltip: true },
    encoding: {
      x: { field: 'checkpoint', type: 'ordinal', sort: order, title: 'checkpoint (after stage)', axis: { labelAngle: 0 } },
      y: { field: 'nll', type: 'quantitative', title: 'mean NLL per token (nats)', scale: { zero: false } },
      color: { field: 'benchmark', type: 'nominal', sort: null, title: 'benchmark' },
      tooltip: tooltip(['checkpoint', 'nominal'], ['benchmark', 'nominal'], ['nll', 'quantitative', '.4f'], ['perplexity', 'quantitative', '.2f'], ['tokens', 'quantitative', ',']),
    },
    width: 320,
    height: 220,
  };
}
