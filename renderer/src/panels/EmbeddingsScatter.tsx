import { useMemo } from 'react';
import type { Preview } from '../api/types';
import { VegaChart } from './VegaChart';

type Projection = NonNullable<Preview['projection']>;

/** An embeddings artifact as a 2-D scatter (the engine's PCA of a sample), coloured by source. */
export function EmbeddingsScatter({ projection }: { projection: Projection }) {
  const spec = useMemo(() => scatterSpec(projection), [projection]);
  return (
    <div data-testid="embeddings-scatter">
      <VegaChart spec={spec} />
    </div>
  );
}

export function scatterSpec(p: Projection): Record<string, unknown> {
  const grouped = p.points.some((pt) => pt.group !== null);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `${p.count.toLocaleString('en-US')} embeddings × ${p.dim} dims`,
      subtitle: `PCA of ${p.sampled === p.count ? 'all' : `${p.sampled.toLocaleString('en-US')} evenly spaced`} rows; the two components explain ${(p.explained * 100).toFixed(1)} % of the variance`,
    },
    height: 260,
    data: { values: p.points },
    mark: { type: 'circle', size: 18, opacity: 0.7 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: 'PC 1', axis: { labels: false, ticks: false } },
      y: { field: 'y', type: 'quantitative', title: 'PC 2', axis: { labels: false, ticks: false } },
      ...(grouped ? { color: { field: 'group', type: 'nominal', title: 'source' } } : {}),
      tooltip: [{ field: 'id', type: 'nominal' }, ...(grouped ? [{ field: 'group', type: 'nominal', title: 'source' }] : [])],
    },
  };
}
