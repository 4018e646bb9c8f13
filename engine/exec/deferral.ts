import type { GraphNode } from '../graph/document.js';
import type { InstancePlan } from './planner.js';

/** What deferral needs to know of a plan (InstancePlan is built from it). */
type PlanShape = Pick<InstancePlan, 'order' | 'instance' | 'node' | 'def'>;

/** FORGE_DEFER=0 writes every dataset (to compare, or to inspect each one after a run). */
export function deferByDefault(): boolean {
  return process.env.FORGE_DEFER !== '0';
}

/**
 * The planned instances whose outputs this run does not write: a deferrable node (engine/sdk/deferred.ts)
 * with exactly one consuming edge in the plan, whose consumer computes the rows in its own pass
 * (it takes a deferred dataset on that port, or is deferred itself and that port is its row input).
 * Decided from the consumers up, so a chain source → filter → write defers both upstream nodes.
 * One edge only: two consumers would each compute the rows again, which costs more than writing them once.
 * Bypassed and pinned nodes are never deferred, nor read deferred.
 */
export function deferredInstances(plan: PlanShape): Set<string> {
  const uses = new Map<string, { consumer: string; inPort: string }[]>();
  for (const id of plan.order) {
    for (const [inPort, sources] of plan.instance(id).inputs) {
      for (const src of sources) {
        const list = uses.get(src.instanceId) ?? [];
        list.push({ consumer: id, inPort });
        uses.set(src.instanceId, list);
      }
    }
  }
  const planned = new Set(plan.order);
  const deferred = new Set<string>();
  const plain = (node: GraphNode) => !node.bypass && !node.pinnedOutputs;
  for (const id of [...plan.order].reverse()) {
    const inst = plan.instance(id);
    if (!plan.def(inst).deferrable || !plain(plan.node(inst))) continue;
    const edges = (uses.get(id) ?? []).filter((u) => planned.has(u.consumer));
    if (edges.length !== 1) continue;
    const { consumer, inPort } = edges[0] as { consumer: string; inPort: string };
    const cinst = plan.instance(consumer);
    const cdef = plan.def(cinst);
    if (!plain(plan.node(cinst))) continue;
    const spec = cdef.deferrable;
    const takes = deferred.has(consumer) ? !!spec && 'input' in spec && spec.input === inPort : (cdef.takesDeferred?.(cinst.params).includes(inPort) ?? false);
    if (takes) deferred.add(id);
  }
  return deferred;
}
