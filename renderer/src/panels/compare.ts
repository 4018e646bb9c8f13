import type { RunDiff, RunRow } from '../api/types';

export type DiffRowKind = 'changed' | 'same' | 'not-in-a' | 'not-in-b';

/**
 * How one node differs between two runs. A node a partial run did not execute is "not executed
 * in run B", not "different": its outputs were never produced there, so nothing changed.
 */
export function diffRowKind(n: RunDiff['nodes'][number]): DiffRowKind {
  if (!n.inB || n.statusB === null) return 'not-in-b';
  if (!n.inA || n.statusA === null) return 'not-in-a';
  return n.paramsChanged.length > 0 || n.codeChanged || n.outputsChanged ? 'changed' : 'same';
}

/** The two ticked runs as [older, newer], so a compare always reads forward in time. */
export function olderNewer(ids: readonly string[], runs: readonly Pick<RunRow, 'id' | 'startedAt'>[]): [string, string] | null {
  if (ids.length !== 2) return null;
  const at = (id: string) => Date.parse(runs.find((r) => r.id === id)?.startedAt ?? '') || 0;
  const [x, y] = ids as [string, string];
  return at(x) <= at(y) ? [x, y] : [y, x];
}
