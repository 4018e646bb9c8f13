/** Node colours by category and handle colours by port kind; CSS variables carry the theme. */

const CATEGORY_HUES: Record<string, number> = {
  Sources: 205,
  Transforms: 265,
  Embeddings: 290,
  Retrieval: 180,
  Classifiers: 330,
  Models: 150,
  Training: 150,
  Evaluation: 20,
  Sweeps: 45,
  Views: 50,
  Sinks: 30,
};

export function categoryHue(category: string): number {
  const known = CATEGORY_HUES[category];
  if (known !== undefined) return known;
  let h = 0;
  for (const ch of category) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return h;
}

export function categoryColor(category: string): string {
  return `hsl(${categoryHue(category)} 70% 58%)`;
}

const KIND_COLORS: Record<string, string> = {
  dataset: '#4c9bf5',
  embeddings: '#b27cf6',
  index: '#f39c3d',
  model: '#38c98a',
  metrics: '#ef5d8f',
  chart: '#e8c547',
};

export function kindColor(kind: string): string {
  return KIND_COLORS[kind] ?? '#8a94a6';
}
