/**
 * Chart specs are written by nodes for a white page (black points, grey lines). On the dark theme
 * those marks vanish, so explicit near-black / grey colours are swapped for light ones and the
 * default palette is one that reads on a dark background.
 */
const DARK_SWAP: Record<string, string> = {
  black: '#f2f4f8',
  '#000': '#f2f4f8',
  '#000000': '#f2f4f8',
  gray: '#b4bccb',
  grey: '#b4bccb',
  '#808080': '#b4bccb',
  '#4c78a8': '#7fb0ff',
};
const COLOR_KEYS = new Set(['color', 'fill', 'stroke']);

/** Category palette with enough luminance contrast on #161a22 (Tableau 10, lightened). */
export const DARK_CATEGORY = ['#7fb0ff', '#ffb062', '#ff8a8a', '#7fd6d0', '#8ee07f', '#ffe066', '#d7a6e8', '#ffb3c6', '#c8a58f', '#d0d4dc'];

export function recolorForDark<T>(spec: T): T {
  const walk = (v: unknown, key: string | null): unknown => {
    if (typeof v === 'string') return key && COLOR_KEYS.has(key) ? (DARK_SWAP[v.toLowerCase()] ?? v) : v;
    if (Array.isArray(v)) return key === 'range' ? v.map((x) => (typeof x === 'string' ? (DARK_SWAP[x.toLowerCase()] ?? x) : walk(x, null))) : v.map((x) => walk(x, null));
    if (v && typeof v === 'object') {
      // Inline data values are data, not styling: leave them alone.
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, k === 'values' ? x : walk(x, k)]));
    }
    return v;
  };
  return walk(spec, null) as T;
}

export function darkChartConfig(): Record<string, unknown> {
  return {
    background: 'transparent',
    range: { category: DARK_CATEGORY },
    mark: { color: DARK_CATEGORY[0] },
    axis: { labelColor: '#c9d1dd', titleColor: '#e4e8f0', gridColor: '#2c3442', domainColor: '#5b6578', tickColor: '#5b6578' },
    legend: { labelColor: '#c9d1dd', titleColor: '#e4e8f0' },
    title: { color: '#e4e8f0' },
    view: { stroke: '#2c3442' },
  };
}
