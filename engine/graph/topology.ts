import type { GraphDocument } from './document.js';

export interface Topology {
  /** Nodes in an order where every edge points forward; nodes on cycles are left out. */
  order: string[];
  /** Nodes that sit on (or behind) a cycle. */
  cyclic: string[];
  parents: Map<string, Set<string>>;
  children: Map<string, Set<string>>;
}

export function topology(doc: Pick<GraphDocument, 'nodes' | 'edges'>): Topology {
  const parents = new Map<string, Set<string>>();
  const children = new Map<string, Set<string>>();
  for (const n of doc.nodes) {
    parents.set(n.id, new Set());
    children.set(n.id, new Set());
  }
  for (const e of doc.edges) {
    if (!parents.has(e.from.node) || !parents.has(e.to.node)) continue;
    parents.get(e.to.node)?.add(e.from.node);
    children.get(e.from.node)?.add(e.to.node);
  }
  const indegree = new Map([...parents].map(([id, p]) => [id, p.size]));
  // Document order breaks ties so the plan is stable for a given file.
  const queue = doc.nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id);
  const order: string[] = [];
  while (queue.length > 0) {
    const id = queue.shift() as string;
    order.push(id);
    for (const c of children.get(id) ?? []) {
      const d = (indegree.get(c) ?? 0) - 1;
      indegree.set(c, d);
      if (d === 0) queue.push(c);
    }
  }
  const placed = new Set(order);
  const cyclic = doc.nodes.map((n) => n.id).filter((id) => !placed.has(id));
  return { order, cyclic, parents, children };
}

export function descendants(topo: Topology, id: string): Set<string> {
  return walk(topo.children, id);
}

export function ancestors(topo: Topology, id: string): Set<string> {
  return walk(topo.parents, id);
}

function walk(next: Map<string, Set<string>>, start: string): Set<string> {
  const seen = new Set<string>();
  const stack = [start];
  while (stack.length > 0) {
    const id = stack.pop() as string;
    for (const n of next.get(id) ?? []) {
      if (!seen.has(n)) {
        seen.add(n);
        stack.push(n);
      }
    }
  }
  return seen;
}
