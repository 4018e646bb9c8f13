/**
 * How many values a parsed document has once every shared reference (a YAML alias) is expanded,
 * computed without expanding anything: memoised per object, so a billion-laughs document costs
 * time linear in its text. Stops counting past `limit`.
 */
export function expandedSize(value: unknown, limit: number): number {
  const memo = new Map<object, number>();
  const size = (v: unknown): number => {
    if (v === null || typeof v !== 'object') return 1;
    const known = memo.get(v);
    if (known !== undefined) return known;
    let n = 1;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      n += size(child);
      if (n > limit) break;
    }
    memo.set(v, n);
    return n;
  };
  return size(value);
}
