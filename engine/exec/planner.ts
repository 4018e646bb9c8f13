import type { GraphNode } from '../graph/document.js';
import { ancestors, descendants } from '../graph/topology.js';
import type { ValidGraph } from '../graph/validate.js';
import type { RunMode } from '../provenance/events.js';
import type { NodeRegistry } from '../registry.js';
import type { NodeType } from '../sdk/types.js';
import { deferByDefault, deferredInstances } from './deferral.js';
import { expandGraph, type Instance } from './expand.js';

/** Which base nodes a run visits, and which of them must execute even if cached. */
export function planRun(graph: ValidGraph, mode: RunMode, target?: string): { planned: Set<string>; forced: Set<string> } {
  if (mode === 'all') return { planned: new Set(graph.topo.order), forced: new Set() };
  if (!target || !graph.nodes.has(target)) throw new Error(`no node "${target ?? ''}" in this graph`);
  if (mode === 'node') return { planned: new Set([target, ...ancestors(graph.topo, target)]), forced: new Set([target]) };
  const forced = new Set([target, ...descendants(graph.topo, target)]);
  const planned = new Set(forced);
  for (const id of forced) for (const a of ancestors(graph.topo, id)) planned.add(a);
  return { planned, forced };
}

export interface PlanRequest {
  mode?: RunMode;
  target?: string;
  force?: boolean;
  /** Let consumers compute deferrable datasets in their own pass (default: unless FORGE_DEFER=0). */
  defer?: boolean;
}

/**
 * The run's shape before anything is hashed: sweeps expanded into instances, the instances the
 * mode visits in topological order, and those forced to execute. Pure: no workspace, no files.
 */
export interface InstancePlan {
  graph: ValidGraph;
  mode: RunMode;
  target: string | null;
  /** Instance ids in execution order. */
  order: string[];
  planned: Set<string>;
  forced: Set<string>;
  /** Instances whose outputs are recipes for their consumer's pass, not written (engine/exec/deferral.ts). */
  deferred: Set<string>;
  instance(id: string): Instance;
  node(inst: Instance): GraphNode;
  def(inst: Instance): NodeType;
}

export function planInstances(graph: ValidGraph, registry: NodeRegistry, req: PlanRequest = {}): InstancePlan {
  const mode = req.mode ?? 'all';
  const bases = planRun(graph, mode, req.target);
  if (req.force) for (const id of bases.planned) bases.forced.add(id);
  const expanded = expandGraph(graph, registry);
  const instancesOf = (ids: Set<string>) => new Set([...ids].flatMap((b) => expanded.byBase.get(b) ?? []));
  const planned = instancesOf(bases.planned);
  const forced = instancesOf(bases.forced);
  const node = (inst: Instance): GraphNode => {
    const n = graph.nodes.get(inst.baseId);
    if (!n) throw new Error(`internal: node ${inst.baseId} missing after validation`);
    return n;
  };
  const shape = {
    order: expanded.order.filter((id) => planned.has(id)),
    instance: (id: string) => {
      const inst = expanded.instances.get(id);
      if (!inst) throw new Error(`internal: no instance ${id}`);
      return inst;
    },
    node,
    def: (inst: Instance) => {
      const def = registry.get(node(inst).type);
      if (!def) throw new Error(`internal: node type ${node(inst).type} missing after validation`);
      return def;
    },
  };
  return {
    graph,
    mode,
    target: req.target ?? null,
    planned,
    forced,
    deferred: (req.defer ?? deferByDefault()) ? deferredInstances(shape) : new Set(),
    ...shape,
  };
}
