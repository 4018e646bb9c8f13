import { round, tooltip } from '../_sdk/report.js';
import type { CurvePoint } from '../_sdk/onnx/causal-lm.js';

/** Training loss against tokens seen, one colour per stage (the paper's Fig. 5a). */
export function stageCurveChart(curve: readonly CurvePoint[], subtitle: string): Record<string, unknown> {
  return {
    title: { text: 'Training loss by stage', subtitle },
    data: { values: curve.map((c) => ({ stage: c.stage, step: c.step, tokens: c.tokens, loss: round(c.loss, 5) })) },
    mark: { type: 'line', point: false, tooltip: true },
    encoding: {
      x: { field: 'tokens', type: 'quantitative', title: 'training tokens (cumulative)' },
      y: { field: 'loss', type: 'quantitative', title: 'training loss (nats/token)', scale: { zero: false } },
      color: { field: 'stage', type: 'nominal', sort: null, title: 'stage' },
      tooltip: tooltip(['stage', 'nominal'], ['step', 'quantitative'], ['tokens', 'quantitative', ','], ['loss', 'quantitative', '.4f']),
    },
    width: 360,
    height: 220,
  };
}
