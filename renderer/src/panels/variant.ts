/**
 * The variant a swept node's output opens on: the one whose swept values equal the params the
 * node shows (what the user reads on the canvas), else the first.
 */
export function shownVariant(params: Record<string, unknown>, variants: Record<string, { variant: Record<string, unknown> }>): string | undefined {
  const ids = Object.keys(variants);
  const same = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' ? Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a)) : JSON.stringify(a) === JSON.stringify(b));
  return (
    ids.find((id) => {
      const v = variants[id]?.variant ?? {};
      const keys = Object.keys(v);
      return keys.length > 0 && keys.every((k) => same(v[k], params[k]));
    }) ?? ids[0]
  );
}
