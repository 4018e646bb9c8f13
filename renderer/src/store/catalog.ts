import { create } from 'zustand';
import type { NodeTypeInfo } from '../api/types';

/** The node types the engine offers, as learned from GET /api/node-types. */
export interface CatalogState {
  types: Map<string, NodeTypeInfo>;
  loaded: boolean;
  setTypes(list: NodeTypeInfo[]): void;
}

export const useCatalog = create<CatalogState>((set) => ({
  types: new Map(),
  loaded: false,
  setTypes: (list) => set({ types: new Map(list.map((t) => [t.type, t])), loaded: true }),
}));

/** Categories in the order a pipeline reads; anything else sorts after, alphabetically. */
const CATEGORY_ORDER = ['Sources', 'Transforms', 'Embeddings', 'Retrieval', 'Classifiers', 'Models', 'Training', 'Evaluation', 'Sweeps', 'Views', 'Sinks'];

export function groupByCategory(types: Iterable<NodeTypeInfo>): [string, NodeTypeInfo[]][] {
  const groups = new Map<string, NodeTypeInfo[]>();
  for (const t of types) {
    const g = groups.get(t.category) ?? [];
    g.push(t);
    groups.set(t.category, g);
  }
  const rank = (c: string) => {
    const i = CATEGORY_ORDER.indexOf(c);
    return i === -1 ? CATEGORY_ORDER.length : i;
  };
  return [...groups.entries()].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b)).map(([c, ts]) => [c, ts.sort((x, y) => x.title.localeCompare(y.title))]);
}

/** Fuzzy-ish search: every query word must appear in the title, type, category or description. */
export function searchTypes(types: Iterable<NodeTypeInfo>, query: string): NodeTypeInfo[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const all = [...types];
  if (words.length === 0) return all;
  const scored: [NodeTypeInfo, number][] = [];
  for (const t of all) {
    const title = t.title.toLowerCase();
    const hay = `${title} ${t.type.toLowerCase()} ${t.category.toLowerCase()} ${t.description.toLowerCase()}`;
    if (!words.every((w) => hay.includes(w))) continue;
    let score = 0;
    for (const w of words) {
      if (title.startsWith(w)) score += 4;
      else if (title.includes(w)) score += 2;
      else if (t.type.toLowerCase().includes(w)) score += 1;
    }
    scored.push([t, score]);
  }
  return scored.sort((a, b) => b[1] - a[1] || a[0].title.localeCompare(b[0].title)).map(([t]) => t);
}
