/**
 * Auto-layout with ELK's layered algorithm (elkjs): left-to-right layers, crossing minimisation,
 * and, for long pipelines, "graph wrapping" — the layer sequence is cut into rows that read like
 * lines of text, so a 16-layer chain stays readable at fit view instead of shrinking to a sliver.
 */
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api';
import ELK from 'elkjs/lib/elk.bundled.js';

export interface LayoutBox {
  id: string;
  width: number;
  height: number;
  /** Port ids top to bottom, so ELK keeps edges leaving and entering in the order drawn. */
  inputs?: readonly string[];
  outputs?: readonly string[];
}

export interface LayoutEdge {
  source: string;
  target: string;
  sourceHandle?: string | null;
  targetHandle?: string | null;
}

export interface LayoutOptions {
  /** Width / height of the area the graph will be shown in; wrapping aims for it. */
  aspectRatio?: number;
  /** Wrap long layer sequences into rows (default when the graph has more than 6 layers). */
  wrap?: boolean;
  gapX?: number;
  gapY?: number;
  /** Vertical gutter between wrapped rows, where edges from one row to the next run. */
  rowGap?: number;
}

let elk: InstanceType<typeof ELK> | null = null;

const portId = (node: string, side: 'in' | 'out', port: string) => `${node}\u0000${side}\u0000${port}`;

export async function elkLayout(nodes: readonly LayoutBox[], edges: readonly LayoutEdge[], opts: LayoutOptions = {}): Promise<Map<string, { x: number; y: number }>> {
  elk ??= new ELK();
  const ids = new Set(nodes.map((n) => n.id));
  const es = edges.filter((e) => ids.has(e.source) && ids.has(e.target) && e.source !== e.target);
  const children: ElkNode[] = nodes.map((n) => {
    const ins = [...(n.inputs ?? [])];
    const outs = [...(n.outputs ?? [])];
    for (const e of es) {
      if (e.target === n.id && e.targetHandle && !ins.includes(e.targetHandle)) ins.push(e.targetHandle);
      if (e.source === n.id && e.sourceHandle && !outs.includes(e.sourceHandle)) outs.push(e.sourceHandle);
    }
    return {
      id: n.id,
      width: n.width,
      height: n.height,
      layoutOptions: { 'elk.portConstraints': 'FIXED_ORDER' },
      ports: [
        ...ins.map((p, i) => ({ id: portId(n.id, 'in', p), width: 1, height: 1, layoutOptions: { 'elk.port.side': 'WEST', 'elk.port.index': String(ins.length - 1 - i) } })),
        ...outs.map((p, i) => ({ id: portId(n.id, 'out', p), width: 1, height: 1, layoutOptions: { 'elk.port.side': 'EAST', 'elk.port.index': String(i) } })),
      ],
    };
  });
  const elkEdges: ElkExtendedEdge[] = es.map((e, i) => ({
    id: `e${i}`,
    sources: [e.sourceHandle ? portId(e.source, 'out', e.sourceHandle) : e.source],
    targets: [e.targetHandle ? portId(e.target, 'in', e.targetHandle) : e.target],
  }));
  const layers = layerCount(nodes, es);
  const wrap = opts.wrap ?? layers > 6;
  const rowLayers = wrap ? Math.max(3, Math.ceil(layers / Math.max(1, Math.round(Math.sqrt(layers / (opts.aspectRatio ?? 1.6) / 1.4))))) : layers;
  const graph: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.edgeRouting': 'SPLINES',
      'elk.layered.spacing.nodeNodeBetweenLayers': String(opts.gapX ?? 70),
      'elk.spacing.nodeNode': String(opts.gapY ?? 28),
      'elk.spacing.edgeNode': '16',
      'elk.layered.nodePlacement.strategy': 'SIMPLE',
      'elk.layered.crossingMinimization.semiInteractive': 'false',
    },
    children,
    edges: elkEdges,
  };
  const out = await elk.layout(graph);
  const placed = (out.children ?? []).map((c) => ({ id: c.id, x: c.x ?? 0, y: c.y ?? 0, w: c.width ?? 0, h: c.height ?? 0 }));
  const pos = new Map<string, { x: number; y: number }>();
  if (!wrap) {
    for (const c of placed) pos.set(c.id, { x: Math.round(c.x), y: Math.round(c.y) });
    return pos;
  }
  // Wrap: cut the layer columns (distinct x positions, left to right) into rows of `rowLayers`
  // and stack the rows with a gutter, so the flow reads left to right, then the next line.
  const xs = [...new Set(placed.map((c) => Math.round(c.x)))].sort((a, b) => a - b);
  const column = new Map(xs.map((x, i) => [x, i]));
  const rows: (typeof placed)[] = [];
  for (const c of placed) (rows[Math.floor((column.get(Math.round(c.x)) ?? 0) / rowLayers)] ??= []).push(c);
  let top = 0;
  for (const row of rows) {
    if (!row) continue;
    const minX = Math.min(...row.map((c) => c.x));
    const minY = Math.min(...row.map((c) => c.y));
    const maxY = Math.max(...row.map((c) => c.y + c.h));
    for (const c of row) pos.set(c.id, { x: Math.round(c.x - minX), y: Math.round(top + c.y - minY) });
    top += maxY - minY + (opts.rowGap ?? 140);
  }
  return pos;
}

/** Number of longest-path layers; decides whether a graph is long enough to wrap. */
export function layerCount(nodes: readonly { id: string }[], edges: readonly LayoutEdge[]): number {
  const parents = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  for (const e of edges) parents.get(e.target)?.push(e.source);
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const d = (id: string): number => {
    const k = depth.get(id);
    if (k !== undefined) return k;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    let v = 0;
    for (const p of parents.get(id) ?? []) v = Math.max(v, d(p) + 1);
    visiting.delete(id);
    depth.set(id, v);
    return v;
  };
  let max = 0;
  for (const n of nodes) max = Math.max(max, d(n.id) + 1);
  return max;
}
