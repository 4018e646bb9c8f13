/** Small graph algorithms over the canvas's node/edge lists (ids only, no React Flow types). */
import { childrenOf, descendants, pathBetween as contractPathBetween } from '../../../engine/contract/topology';

export interface EdgeLike {
  source: string;
  target: string;
}

const links = (edges: readonly EdgeLike[]) => edges.map((e) => ({ from: e.source, to: e.target }));

export function childrenMap(edges: readonly EdgeLike[]): Map<string, Set<string>> {
  return childrenOf(links(edges));
}

/** Every node reachable downstream of `start` (not including it). */
export function descendantsOf(start: string, edges: readonly EdgeLike[]): Set<string> {
  const seen = descendants({ children: childrenMap(edges) }, start);
  seen.delete(start);
  return seen;
}

/** A path from `from` to `to` following edges, or null. Used to explain a refused connection. */
export function pathBetween(from: string, to: string, edges: readonly EdgeLike[]): string[] | null {
  return contractPathBetween(from, to, links(edges));
}

/** A fresh id from a base name that is not in `taken`: filter, filter_2, filter_3 … */
export function uniqueId(base: string, taken: ReadonlySet<string>): string {
  const clean = base.replace(/[^A-Za-z0-9_.:-]+/g, '_').replace(/^_+|_+$/g, '') || 'node';
  if (!taken.has(clean)) return clean;
  for (let i = 2; ; i++) {
    const id = `${clean}_${i}`;
    if (!taken.has(id)) return id;
  }
}

export interface LayoutNode {
  id: string;
  width: number;
  height: number;
}

/**
 * Layered left-to-right layout: longest-path layers, then a few barycentre sweeps to reduce
 * crossings, then stacking each layer centred on the tallest one. Good enough for pipelines,
 * which are mostly chains with fan-in/fan-out; no dependency needed.
 */
export function layeredLayout(nodes: readonly LayoutNode[], edges: readonly EdgeLike[], gapX = 80, gapY = 36): Map<string, { x: number; y: number }> {
  const ids = new Set(nodes.map((n) => n.id));
  const es = edges.filter((e) => ids.has(e.source) && ids.has(e.target) && e.source !== e.target);
  const parents = new Map<string, string[]>();
  const children = new Map<string, string[]>();
  for (const n of nodes) {
    parents.set(n.id, []);
    children.set(n.id, []);
  }
  for (const e of es) {
    parents.get(e.target)?.push(e.source);
    children.get(e.source)?.push(e.target);
  }
  // Longest path from a root, with cycle protection (nodes on cycles just keep their first layer).
  const layer = new Map<string, number>();
  const visiting = new Set<string>();
  const depth = (id: string): number => {
    const known = layer.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    let d = 0;
    for (const p of parents.get(id) ?? []) d = Math.max(d, depth(p) + 1);
    visiting.delete(id);
    layer.set(id, d);
    return d;
  };
  for (const n of nodes) depth(n.id);
  const layers: string[][] = [];
  for (const n of nodes) {
    const l = layer.get(n.id) ?? 0;
    (layers[l] ??= []).push(n.id);
  }
  const order = new Map<string, number>();
  const renumber = () => layers.forEach((ls) => ls.forEach((id, i) => order.set(id, i)));
  renumber();
  const bary = (id: string, nbrs: Map<string, string[]>) => {
    const ns = nbrs.get(id) ?? [];
    if (ns.length === 0) return order.get(id) ?? 0;
    return ns.reduce((s, x) => s + (order.get(x) ?? 0), 0) / ns.length;
  };
  for (let sweep = 0; sweep < 4; sweep++) {
    const down = sweep % 2 === 0;
    const range = down
      ? layers.map((_, i) => i).slice(1)
      : layers
          .map((_, i) => i)
          .slice(0, -1)
          .reverse();
    for (const i of range) {
      const ls = layers[i];
      if (!ls) continue;
      const keyed = ls.map((id) => [id, bary(id, down ? parents : children)] as const);
      keyed.sort((a, b) => a[1] - b[1]);
      layers[i] = keyed.map(([id]) => id);
      renumber();
    }
  }
  const size = new Map(nodes.map((n) => [n.id, n]));
  const heights = layers.map((ls) => ls.reduce((s, id) => s + (size.get(id)?.height ?? 0), 0) + gapY * Math.max(0, ls.length - 1));
  const tallest = Math.max(0, ...heights);
  const out = new Map<string, { x: number; y: number }>();
  let x = 0;
  layers.forEach((ls, i) => {
    const width = Math.max(0, ...ls.map((id) => size.get(id)?.width ?? 0));
    let y = (tallest - (heights[i] ?? 0)) / 2;
    for (const id of ls) {
      out.set(id, { x, y });
      y += (size.get(id)?.height ?? 0) + gapY;
    }
    x += width + gapX;
  });
  return out;
}
