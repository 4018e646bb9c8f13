import type { GraphPlan } from '../api/types';

/** What the stale rule needs of a node's shown result: its state and output hashes. */
export interface ShownResult {
  state: string;
  outputs?: readonly { port: string; hash: string }[];
}

const HAS_RESULT = new Set(['done', 'cached', 'bypassed', 'pinned', 'failed', 'skipped', 'cancelled']);

/**
 * Which nodes are stale and why, read off the engine's plan (POST /api/plan) rather than
 * re-derived here: the plan's cache keys include the seed, input files, code and upstream data.
 * A node is stale when it shows a result and either the engine would run it again, or the engine
 * would reuse a different cached result than the one shown (e.g. after an undo). Nodes without
 * a result are never stale; they simply have not run. A swept node is stale if any variant is.
 */
export function staleFromPlan(plan: GraphPlan, shown: (nodeId: string) => ShownResult | undefined): Record<string, string> {
  const stale: Record<string, string> = {};
  for (const n of plan.nodes) {
    const result = shown(n.baseNodeId);
    if (!result || !HAS_RESULT.has(result.state) || stale[n.baseNodeId]) continue;
    const variant = n.nodeId === n.baseNodeId ? '' : `${n.nodeId}: `;
    if (n.action === 'run' || n.action === 'error') {
      stale[n.baseNodeId] = `${variant}${n.reasons.join('; ')}`;
    } else if (n.action === 'cached' && n.nodeId === n.baseNodeId && result.outputs && result.outputs.length > 0 && !sameOutputs(result.outputs, n.outputs ?? [])) {
      stale[n.baseNodeId] = 'another cached result matches the current graph';
    }
  }
  return stale;
}

function sameOutputs(a: readonly { port: string; hash: string }[], b: readonly { port: string; hash: string }[]): boolean {
  const key = (xs: readonly { port: string; hash: string }[]) =>
    xs
      .map((o) => `${o.port}=${o.hash}`)
      .sort()
      .join('|');
  return key(a) === key(b);
}
