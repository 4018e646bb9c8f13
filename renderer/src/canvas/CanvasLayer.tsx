import { getBezierPath, Position, useStoreApi, type InternalNode, type ReactFlowState } from '@xyflow/react';
import { useEffect, useRef, type MutableRefObject } from 'react';
import { categoryColor } from '../lib/colors';
import { useGraph } from '../store/app';
import { useCatalog } from '../store/catalog';
import type { FlowEdge, FlowNode } from '../store/graph';
import { useLibrary } from '../store/library';
import { displayState, useRun } from '../store/run';
import { aggregateState, isInside, subgraphInfo, SUBGRAPH_TYPE } from '../store/subgraph';
import { useUi } from '../store/ui';
import { covers, drawFar, drawRegion, nodesInView, sceneBounds, viewRect, type FarColors, type FarNode, type FarScene, type Rect } from './farCanvas';

type Flow = ReactFlowState<FlowNode, FlowEdge>;

/** Where an edge leaves (right side) or enters (left side) a node: its handle's centre on that side. */
function handlePoint(n: InternalNode<FlowNode>, kind: 'source' | 'target', id: string | null | undefined): { x: number; y: number } {
  const p = n.internals.positionAbsolute;
  const bounds = n.internals.handleBounds?.[kind] ?? [];
  const h = bounds.find((b) => b.id === id) ?? bounds[0];
  const w = n.measured.width ?? n.width ?? 240;
  const ht = n.measured.height ?? n.height ?? 120;
  if (!h) return { x: p.x + (kind === 'source' ? w : 0), y: p.y + ht / 2 };
  return { x: p.x + h.x + (kind === 'source' ? h.width : 0), y: p.y + h.y + h.height / 2 };
}

/** The scene for the current graph, run states and selection; rebuilt only when one of those changes. */
function buildScene(s: Flow): FarScene {
  const { scope } = useGraph.getState();
  const { status, stale } = useRun.getState();
  const types = useCatalog.getState().types;
  const components = useLibrary.getState().components;
  const lit = new Set(useUi.getState().highlight);
  const nodes: FarNode[] = [];
  for (const n of s.nodeLookup.values()) {
    if (n.hidden) continue;
    const full = scope + n.id;
    const isSub = n.data.type === SUBGRAPH_TYPE;
    let state = displayState(status[full], stale[full]);
    if (isSub) {
      const inner = new Set([...Object.keys(status), ...Object.keys(stale)].filter((k) => isInside(k, full)));
      state = inner.size ? aggregateState([...inner].map((k) => displayState(status[k], stale[k]))) : 'idle';
    }
    const category = (isSub ? subgraphInfo(n.data.subgraph, components) : types.get(n.data.type))?.category ?? 'Unknown';
    nodes.push({
      id: n.id,
      ...n.internals.positionAbsolute,
      width: n.measured.width ?? n.width ?? 240,
      height: n.measured.height ?? n.height ?? 120,
      color: categoryColor(category),
      state,
      selected: !!n.selected,
      highlighted: lit.has(full),
    });
  }
  let edgePath = '';
  let selectedEdgePath = '';
  for (const e of s.edges) {
    if (e.hidden) continue;
    const a = s.nodeLookup.get(e.source);
    const b = s.nodeLookup.get(e.target);
    if (!a || !b || a.hidden || b.hidden) continue;
    const from = handlePoint(a, 'source', e.sourceHandle);
    const to = handlePoint(b, 'target', e.targetHandle);
    // The same curve React Flow's default edge draws.
    const [d] = getBezierPath({ sourceX: from.x, sourceY: from.y, sourcePosition: Position.Right, targetX: to.x, targetY: to.y, targetPosition: Position.Left });
    edgePath += d;
    if (e.selected) selectedEdgePath += d;
  }
  return { nodes, edgePath, selectedEdgePath };
}

function readColors(el: Element): FarColors {
  const cs = getComputedStyle(el);
  const v = (name: string, fallback: string) => cs.getPropertyValue(name).trim() || fallback;
  return {
    nodeBg: v('--node-bg', '#1a1f29'),
    border: v('--border', '#272e3b'),
    edge: v('--border-strong', '#35405a'),
    accent: v('--accent', '#6b93ff'),
    ok: v('--ok', '#3ecf8e'),
    cached: v('--cached', '#35c2c1'),
    err: v('--err', '#f0616d'),
    warn: v('--warn', '#f0b43c'),
    info: v('--info', '#59a8f7'),
  };
}

/**
 * The far-zoom layer (see farCanvas.ts). While `active`, it redraws at most once per animation
 * frame after React Flow's store changes (a pan or zoom step, a moved or selected node) and after
 * run-state, catalog or highlight changes; inactive it draws nothing and costs nothing. `sceneRef`
 * gets the last scene, for the canvas's hit-testing of clicks and drags on nodes.
 */
export function CanvasLayer({ active, theme, sceneRef }: { active: boolean; theme: string; sceneRef: MutableRefObject<FarScene | null> }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const store = useStoreApi<FlowNode, FlowEdge>();

  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx || !active) return;
    let scene: FarScene | null = null;
    let paths: { all: Path2D; selected: Path2D } | null = null;
    let bounds: Rect = { x0: 0, y0: 0, x1: 0, y1: 0 };
    // What the bitmap holds: a flow-coordinate region drawn at zoom k.
    let drawn: (Rect & { k: number; dpr: number }) | null = null;
    let frame = 0;
    const colors = readColors(canvas);
    const place = (t: readonly [number, number, number]) => {
      if (drawn) canvas.style.transform = `translate(${t[0] + drawn.x0 * t[2]}px, ${t[1] + drawn.y0 * t[2]}px)`;
    };
    const draw = () => {
      frame = 0;
      const s = store.getState();
      if (!scene) {
        scene = buildScene(s);
        paths = { all: new Path2D(scene.edgePath), selected: new Path2D(scene.selectedEdgePath) };
        sceneRef.current = scene;
        bounds = sceneBounds(scene);
      }
      const k = s.transform[2];
      const dpr = window.devicePixelRatio || 1;
      const r = drawRegion(bounds, viewRect(s.transform, s.width, s.height));
      const w = Math.max(1, Math.ceil((r.x1 - r.x0) * k));
      const h = Math.max(1, Math.ceil((r.y1 - r.y0) * k));
      if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
        canvas.width = Math.round(w * dpr);
        canvas.height = Math.round(h * dpr);
        canvas.style.width = `${w}px`;
        canvas.style.height = `${h}px`;
      }
      const count = drawFar(ctx, scene, paths, [-r.x0 * k, -r.y0 * k, k], w, h, dpr, colors);
      drawn = { ...r, k, dpr };
      place(s.transform);
      const inView = nodesInView(scene.nodes, s.transform, s.width, s.height).length;
      if (canvas.dataset.drawnNodes !== String(count)) canvas.dataset.drawnNodes = String(count);
      if (canvas.dataset.nodesInView !== String(inView)) canvas.dataset.nodesInView = String(inView);
    };
    const schedule = () => {
      frame ||= requestAnimationFrame(draw);
    };
    const rebuild = () => {
      scene = null;
      schedule();
    };
    const unsubs = [
      store.subscribe((s, prev) => {
        if (s.nodes !== prev.nodes || s.edges !== prev.edges || s.nodeLookup !== prev.nodeLookup) scene = null;
        if (s.transform === prev.transform && s.width === prev.width && s.height === prev.height && scene) return;
        // A pan within the drawn region only moves the bitmap: no redraw, no new texture.
        if (scene && drawn && drawn.k === s.transform[2] && covers(drawn, bounds, viewRect(s.transform, s.width, s.height))) place(s.transform);
        else schedule();
      }),
      useRun.subscribe(rebuild),
      useCatalog.subscribe(rebuild),
      useLibrary.subscribe(rebuild),
      useUi.subscribe((s, prev) => {
        if (s.highlight !== prev.highlight) rebuild();
      }),
    ];
    draw();
    return () => {
      if (frame) cancelAnimationFrame(frame);
      for (const u of unsubs) u();
      sceneRef.current = null;
      canvas.width = 0;
      canvas.height = 0;
      delete canvas.dataset.drawnNodes;
      delete canvas.dataset.nodesInView;
    };
    // The theme changes the colours read above.
  }, [active, theme, store, sceneRef]);

  return <canvas ref={ref} className="far-canvas" data-testid="far-canvas" aria-hidden style={{ display: active ? 'block' : 'none' }} />;
}
