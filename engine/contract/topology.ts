/**
 * Part of the engine ↔ renderer contract: graph order and reachability over plain ids, so the
 * engine's planner and the canvas (cycle refusals, "downstream of") cannot disagree.
 */

/** A directed link between two node ids (an edge, without ports). */
export interface Link {
  from: string;
  to: string;
}

export interface Topology {
  /** Nodes in an order where every edge points forward; nodes on cycles are left out. */
  order: string[];
  /** Nodes that sit on (or behind) a cycle. */
  cyclic: string[];
  parents: Map<string, Set<string>>;
  children: Map<string, Set<string>>;
}

/** Kahn's algorithm; the given node order breaks ties, so the plan is stable for a given file. */
export function topologyOf(nodeIds: readonly string[], links: readonly Link[]): Topology {
  const parents = new Map<string, Set<string>>();
  const children = new Map<string, Set<string>>();
  for (const id of nodeIds) {
    parents.set(id, new Set());
    children.set(id, new Set());
  }
  for (const l of links) {
    if (!parents.has(l.from) || !parents.has(l.to)) continue;
    parents.get(l.to)?.add(l.from);
    children.get(l.from)?.add(l.to);
  }
  const indegree = new Map([...parents].map(([id, p]) => [id, p.size]));
  const queue = nodeIds.filter((id) => indegree.get(id) === 0);
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
  const cyclic = nodeIds.filter((id) => !placed.has(id));
  return { order, cyclic, parents, children };
}

export function descendants(topo: Pick<Topology, 'children'>, id: string): Set<string> {
  return walk(topo.children, id);
}

export function ancestors(topo: Pick<Topology, 'parents'>, id: string): Set<string> {
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

export function childrenOf(links: readonly Link[]): Map<string, Set<string>> {
  const m = new Map<string, Set<string>>();
  for (const l of links) {
    let s = m.get(l.from);
    if (!s) m.set(l.from, (s = new Set()));
    s.add(l.to);
  }
  return m;
}

/** A shortest path from `from` to `to` following links, or null: why a new edge would close a cycle. */
export function pathBetween(from: string, to: string, links: readonly Link[]): string[] | null {
  if (from === to) return [from];
  const children = childrenOf(links);
  const prev = new Map<string, string>();
  const queue = [from];
  const seen = new Set([from]);
  while (queue.length > 0) {
    const id = queue.shift() as string;
    for (const c of children.get(id) ?? []) {
      if (seen.has(c)) continue;
      seen.add(c);
      prev.set(c, id);
      if (c === to) {
        const path = [to];
        let cur = to;
        while (prev.has(cur)) {
          cur = prev.get(cur) as string;
          path.unshift(cur);
        }
        return path;
      }
      queue.push(c);
    }
  }
  return null;
}
