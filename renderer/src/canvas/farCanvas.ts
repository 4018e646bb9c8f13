// The far-zoom canvas layer: below TINY_ZOOM every node is a plain card and every edge a hairline,
// so the canvas draws them all on one 2D <canvas> and hides React Flow's node and edge layers.
// A pan frame then paints one bitmap instead of ~2000 DOM paint chunks (one per node and edge),
// which Chromium had to layerize on every frame. Pure functions here; the component is CanvasLayer.
import type { NodeRunState } from '../store/run';

/** Below this zoom nodes show no text (lod-tiny) and the canvas layer draws the graph. */
export const TINY_ZOOM = 0.2;

/** A node as the canvas draws it, in flow coordinates. */
export interface FarNode {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Category colour (the strip on the left). */
  color: string;
  state: NodeRunState;
  selected: boolean;
  highlighted: boolean;
}

export interface FarScene {
  nodes: FarNode[];
  /** Every edge's SVG path data (flow coordinates), joined: one Path2D strokes them all. */
  edgePath: string;
  /** The selected edges' path data, stroked on top in the accent colour. */
  selectedEdgePath: string;
}

/** Colours the DOM canvas takes from CSS variables; read once per theme. */
export interface FarColors {
  nodeBg: string;
  border: string;
  edge: string;
  accent: string;
  ok: string;
  cached: string;
  err: string;
  warn: string;
  info: string;
}

/** The colour of a state's band at the bottom of a card (the DOM card's status bar), if any. */
export function stateColor(state: NodeRunState, c: FarColors): string | null {
  switch (state) {
    case 'done':
      return c.ok;
    case 'cached':
    case 'pinned':
      return c.cached;
    case 'failed':
      return c.err;
    case 'stale':
      return c.warn;
    case 'running':
      return c.info;
    default:
      return null;
  }
}

/** A flow-coordinate rectangle. */
export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** The flow-coordinate rectangle a view of width × height px shows at React Flow's [x, y, zoom]. */
export function viewRect(transform: readonly [number, number, number], width: number, height: number): Rect {
  const [tx, ty, k] = transform;
  return { x0: -tx / k, y0: -ty / k, x1: (width - tx) / k, y1: (height - ty) / k };
}

/** The box around every node, with room for the outlines drawn outside a node. */
export function sceneBounds(scene: FarScene): Rect {
  let r: Rect = { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
  for (const n of scene.nodes) r = { x0: Math.min(r.x0, n.x), y0: Math.min(r.y0, n.y), x1: Math.max(r.x1, n.x + n.width), y1: Math.max(r.y1, n.y + n.height) };
  if (r.x0 > r.x1) return { x0: 0, y0: 0, x1: 0, y1: 0 };
  const pad = 200;
  return { x0: r.x0 - pad, y0: r.y0 - pad, x1: r.x1 + pad, y1: r.y1 + pad };
}

/**
 * The region to draw: the view and half a view around it on each side, cut to the graph's bounds.
 * At a fit view that is the whole graph, so panning never redraws; zoomed in on a big graph a pan
 * redraws once it leaves the margin. Empty (zero-sized) when the view shows none of the graph.
 */
export function drawRegion(bounds: Rect, view: Rect): Rect {
  const mx = (view.x1 - view.x0) / 2;
  const my = (view.y1 - view.y0) / 2;
  const x0 = Math.max(bounds.x0, view.x0 - mx);
  const y0 = Math.max(bounds.y0, view.y0 - my);
  const x1 = Math.min(bounds.x1, view.x1 + mx);
  const y1 = Math.min(bounds.y1, view.y1 + my);
  return x0 < x1 && y0 < y1 ? { x0, y0, x1, y1 } : { x0: view.x0, y0: view.y0, x1: view.x0, y1: view.y0 };
}

/** Whether the drawn region holds everything of the graph (`bounds`) that `view` shows. */
export function covers(drawn: Rect, bounds: Rect, view: Rect): boolean {
  const x0 = Math.max(bounds.x0, view.x0);
  const y0 = Math.max(bounds.y0, view.y0);
  const x1 = Math.min(bounds.x1, view.x1);
  const y1 = Math.min(bounds.y1, view.y1);
  if (x0 >= x1 || y0 >= y1) return true;
  return x0 >= drawn.x0 && y0 >= drawn.y0 && x1 <= drawn.x1 && y1 <= drawn.y1;
}

/** The topmost node (drawn last) under a flow-coordinate point. */
export function nodeAt(nodes: readonly FarNode[], x: number, y: number): FarNode | null {
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i] as FarNode;
    if (x >= n.x && x <= n.x + n.width && y >= n.y && y <= n.y + n.height) return n;
  }
  return null;
}

/** The nodes that intersect the view; `transform` is React Flow's [x, y, zoom], the view width × height px. */
export function nodesInView(nodes: readonly FarNode[], transform: readonly [number, number, number], width: number, height: number): FarNode[] {
  const [tx, ty, k] = transform;
  const x0 = -tx / k;
  const y0 = -ty / k;
  const x1 = x0 + width / k;
  const y1 = y0 + height / k;
  return nodes.filter((n) => n.x < x1 && n.x + n.width > x0 && n.y < y1 && n.y + n.height > y0);
}

/**
 * Draws the scene. Sizes that would fall under a pixel at this zoom get a floor in screen pixels
 * (edges, borders, the category strip and the state band), so the overview shows the graph's
 * shape, categories and run states where the scaled DOM drew hairlines a tenth of a pixel wide.
 * Returns how many nodes it drew.
 */
export function drawFar(
  ctx: CanvasRenderingContext2D,
  scene: FarScene,
  edges: { all: Path2D; selected: Path2D } | null,
  transform: readonly [number, number, number],
  width: number,
  height: number,
  dpr: number,
  c: FarColors,
): number {
  const [tx, ty, k] = transform;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.setTransform(dpr * k, 0, 0, dpr * k, dpr * tx, dpr * ty);
  const px = 1 / k; // one screen pixel in flow units
  if (edges) {
    ctx.lineWidth = Math.max(2, 0.6 * px);
    ctx.strokeStyle = c.edge;
    ctx.stroke(edges.all);
    ctx.lineWidth = Math.max(2.5, 1.2 * px);
    ctx.strokeStyle = c.accent;
    ctx.stroke(edges.selected);
  }
  const visible = nodesInView(scene.nodes, transform, width, height);
  const radius = 10;
  const cards = new Path2D();
  for (const n of visible) cards.roundRect(n.x, n.y, n.width, n.height, radius);
  ctx.fillStyle = c.nodeBg;
  ctx.fill(cards);
  ctx.lineWidth = Math.max(1, 0.5 * px);
  ctx.strokeStyle = c.border;
  ctx.stroke(cards);

  // Category strip on the left and state band at the bottom, batched by colour.
  const strip = Math.max(6, px);
  const band = Math.max(8, 3 * px);
  const fills = new Map<string, Path2D>();
  const add = (color: string, x: number, y: number, w: number, h: number) => {
    let p = fills.get(color);
    if (!p) fills.set(color, (p = new Path2D()));
    p.rect(x, y, w, h);
  };
  for (const n of visible) {
    const inset = Math.min(radius, n.height / 4);
    add(n.color, n.x, n.y + inset, Math.min(strip, n.width / 4), Math.max(0, n.height - 2 * inset));
    const sc = stateColor(n.state, c);
    if (sc) add(sc, n.x + inset, n.y + n.height - Math.min(band, n.height / 4), Math.max(0, n.width - 2 * inset), Math.min(band, n.height / 4));
  }
  for (const [color, p] of fills) {
    ctx.fillStyle = color;
    ctx.fill(p);
  }

  // Outlines: selected in the accent colour, lineage hits in the warning colour.
  const selected = new Path2D();
  const lit = new Path2D();
  let anySel = false;
  let anyLit = false;
  for (const n of visible) {
    if (n.selected) {
      selected.roundRect(n.x, n.y, n.width, n.height, radius);
      anySel = true;
    }
    if (n.highlighted) {
      const o = Math.max(6, 3 * px);
      lit.roundRect(n.x - o, n.y - o, n.width + 2 * o, n.height + 2 * o, radius + o);
      anyLit = true;
    }
  }
  if (anySel) {
    ctx.lineWidth = Math.max(3, 2 * px);
    ctx.strokeStyle = c.accent;
    ctx.stroke(selected);
  }
  if (anyLit) {
    ctx.lineWidth = Math.max(3, 2 * px);
    ctx.strokeStyle = c.warn;
    ctx.stroke(lit);
  }
  return visible.length;
}
