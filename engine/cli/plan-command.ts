import type { GraphPlan, PlanAction } from '../exec/plan.js';
import { short, table } from './format.js';

const LABEL: Record<PlanAction, string> = { cached: 'cached', run: 'will run', bypassed: 'bypassed', pinned: 'pinned', error: 'error' };

/** `forge plan` as text: one row per node instance, the reasons joined, then the totals. */
export function formatPlan(plan: GraphPlan): string {
  const rows = plan.nodes.map((n) => [
    n.nodeId,
    n.nodeType,
    `${LABEL[n.action]}${n.deferred ? ' (deferred)' : ''}`,
    n.cacheKey && n.cacheKey !== 'pinned' ? short(n.cacheKey, 12) : '',
    n.reasons.join('; '),
  ]);
  const count = (a: PlanAction) => plan.nodes.filter((n) => n.action === a).length;
  const totals = `${count('run')} will run, ${count('cached') + count('pinned') + count('bypassed')} cached, ${count('error')} error(s) (seed ${plan.seed}, mode ${plan.mode}${plan.target ? ` ${plan.target}` : ''})`;
  const deferred = plan.nodes.some((n) => n.deferred) ? '\n(deferred: not written; its only consumer computes its rows in its own pass)' : '';
  return `${table(['node', 'type', 'plan', 'key', 'why'], rows)}\n\n${totals}${deferred}`;
}
