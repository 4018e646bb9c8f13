/**
 * The SVG path of a sparkline of `values` in a `w`×`h` box with `pad` px inside each edge, oldest
 * at the left; equal values draw a flat line through the middle rather than along an edge.
 */
export function sparklinePath(values: readonly number[], w: number, h: number, pad: number): { line: string; last: { x: number; y: number } } {
  if (values.length === 0) throw new Error('sparklinePath: no values');
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min;
  const step = values.length > 1 ? (w - 2 * pad) / (values.length - 1) : 0;
  const pts = values.map((v, i) => ({
    x: pad + i * step,
    y: span === 0 ? h / 2 : pad + (1 - (v - min) / span) * (h - 2 * pad),
  }));
  const r = (n: number) => Math.round(n * 10) / 10;
  const line = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${r(p.x)} ${r(p.y)}`).join(' ');
  const last = pts[pts.length - 1] as { x: number; y: number };
  return { line, last: { x: r(last.x), y: r(last.y) } };
}
