import type { ValidGraph } from '../graph/validate.js';
import { consistent, setPath, sweepVariants, variantLabel, type Variant } from '../graph/sweep.js';
import type { NodeRegistry } from '../registry.js';

export interface InputSource {
  instanceId: string;
  port: string;
  fromNode: string;
  variant: Variant;
}

/** One execution slot: a node, or one sweep variant of a node. */
export interface Instance {
  id: string;
  baseId: string;
  variant: Variant;
  params: Record<string, unknown>;
  parents: string[];
  inputs: Map<string, InputSource[]>;
}

export interface ExpandedGraph {
  instances: Map<string, Instance>;
  order: string[];
  byBase: Map<string, string[]>;
}

/**
 * Expands sweeps: a swept node becomes one instance per value, and so does everything downstream of
 * it, until a fan-in (`multiple`) input collects the variants. Variants of independent sweeps
 * combine; variants of the same sweep stay aligned along every path.
 */
export function expandGraph(graph: ValidGraph, registry: NodeRegistry): ExpandedGraph {
  const instances = new Map<string, Instance>();
  const byBase = new Map<string, string[]>();
  const order: string[] = [];

  for (const baseId of graph.topo.order) {
    const node = graph.nodes.get(baseId);
    const def = node ? registry.get(node.type) : undefined;
    if (!node || !def) continue;
    const ports = graph.incoming.get(baseId) ?? new Map();

    let variants: Variant[] = [{}];
    for (const [port, sources] of ports) {
      if (def.inputs[port]?.multiple) continue;
      for (const src of sources) {
        const upstream = (byBase.get(src.node) ?? []).map((id) => (instances.get(id) as Instance).variant);
        const next: Variant[] = [];
        for (const a of variants) for (const b of upstream) if (consistent(a, b)) next.push({ ...a, ...b });
        variants = dedupe(next);
      }
    }
    if (node.sweep) {
      const own = sweepVariants(baseId, node.sweep, graph.doc.seed);
      variants = variants.flatMap((a) => own.map((b) => ({ ...a, ...b })));
    }

    const ids: string[] = [];
    for (const variant of variants) {
      const label = variantLabel(variant);
      const id = label ? `${baseId}[${label}]` : baseId;
      const params = structuredClone(graph.params.get(baseId) ?? {});
      for (const [key, value] of Object.entries(variant)) {
        if (key.startsWith(`${baseId}.`)) setPath(params, key.slice(baseId.length + 1), value);
      }
      const inputs = new Map<string, InputSource[]>();
      const parents = new Set<string>();
      for (const [port, sources] of ports) {
        const list: InputSource[] = [];
        for (const src of sources) {
          for (const upId of byBase.get(src.node) ?? []) {
            const up = instances.get(upId) as Instance;
            if (!consistent(variant, up.variant)) continue;
            list.push({ instanceId: upId, port: src.port, fromNode: src.node, variant: up.variant });
            parents.add(upId);
          }
        }
        inputs.set(port, list);
      }
      instances.set(id, { id, baseId, variant, params, parents: [...parents], inputs });
      ids.push(id);
      order.push(id);
    }
    byBase.set(baseId, ids);
  }
  return { instances, order, byBase };
}

function dedupe(vs: Variant[]): Variant[] {
  const seen = new Set<string>();
  return vs.filter((v) => {
    const k = JSON.stringify(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)));
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
