import { round } from '../_sdk/report.js';

export interface SurfaceInput {
  labels: string[];
  grid: number[][];
  predicted: number[];
  points: { r: number[]; loss: number }[];
  optimum: number[];
  bestSampled: number[];
  validation?: number;
}

/** Three shares → a point in the ternary triangle (first share at the bottom-left corner). */
function ternary(r: readonly number[]): { x: number; y: number } {
  const b = r[1] as number;
  const c = r[2] as number;
  return { x: b + c / 2, y: (c * Math.sqrt(3)) / 2 };
}

/**
 * The fitted objective over the shares: a ternary heat map for three domains, the curve along the
 * first share otherwise (other shares as the grid has them), with the sampled mixes, the predicted
 * optimum and the best sampled mix marked.
 */
export function surfaceChart(s: SurfaceInput): Record<string, unknown> {
  const title = {
    text: 'Fitted mixing law',
    subtitle: `objective = mean benchmark loss; shares: ${s.labels.join(' / ')}${s.validation !== undefined ? `; validation loss at the optimum ${s.validation.toFixed(4)}` : ''}`,
  };
  const describe = (r: readonly number[]) => s.labels.map((l, j) => `${l} ${(r[j] as number).toFixed(2)}`).join(', ');
  if (s.labels.length === 3) {
    const cells = s.grid.map((r, i) => ({ ...ternary(r), loss: round(s.predicted[i] as number, 5), shares: describe(r) }));
    const marks = [
      ...s.points.map((p) => ({ ...ternary(p.r), loss: round(p.loss, 5), what: 'sampled mix', shares: describe(p.r) })),
      { ...ternary(s.optimum), what: 'predicted optimum', shares: describe(s.optimum) },
      { ...ternary(s.bestSampled), what: 'best sampled', shares: describe(s.bestSampled) },
    ];
    const axis = { axis: null, scale: { domain: [0, 1] } };
    return {
      title,
      layer: [
        {
          data: { values: cells },
          mark: { type: 'square', size: 40, tooltip: true },
          encoding: {
            x: { field: 'x', type: 'quantitative', ...axis },
            y: { field: 'y', type: 'quantitative', ...axis },
            color: { field: 'loss', type: 'quantitative', title: 'predicted loss', scale: { scheme: 'viridis', reverse: true } },
            tooltip: [{ field: 'shares' }, { field: 'loss', format: '.4f' }],
          },
        },
        {
          data: { values: marks },
          mark: { type: 'point', filled: true, size: 90, stroke: 'white', tooltip: true },
          encoding: {
            x: { field: 'x', type: 'quantitative' },
            y: { field: 'y', type: 'quantitative' },
            shape: { field: 'what', type: 'nominal', title: null },
            tooltip: [{ field: 'what' }, { field: 'shares' }, { field: 'loss', format: '.4f' }],
          },
        },
        {
          data: {
            values: [
              { x: -0.02, y: -0.04, t: s.labels[0] },
              { x: 1.02, y: -0.04, t: s.labels[1] },
              { x: 0.5, y: 0.9, t: s.labels[2] },
            ],
          },
          mark: { type: 'text', fontSize: 12 },
          encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, text: { field: 't' } },
        },
      ],
      width: 320,
      height: 290,
    };
  }
  const curve = s.grid.map((r, i) => ({ share: r[0] as number, loss: round(s.predicted[i] as number, 5), what: 'fitted' })).sort((a, b) => a.share - b.share);
  return {
    title,
    layer: [
      {
        data: { values: curve },
        mark: { type: 'point', size: 10 },
        encoding: { x: { field: 'share', type: 'quantitative', title: `${s.labels[0]} share` }, y: { field: 'loss', type: 'quantitative', scale: { zero: false }, title: 'objective (nats/token)' } },
      },
      {
        data: { values: s.points.map((p) => ({ share: p.r[0], loss: round(p.loss, 5) })) },
        mark: { type: 'point', filled: true, color: 'black', size: 60 },
        encoding: { x: { field: 'share', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative' } },
      },
      { data: { values: [{ share: s.optimum[0] }] }, mark: { type: 'rule', strokeDash: [4, 3] }, encoding: { x: { field: 'share', type: 'quantitative' } } },
    ],
    width: 320,
    height: 220,
  };
}
