import {
  Background,
  BackgroundVariant,
  ControlButton,
  Controls,
  MiniMap,
  ReactFlow,
  useReactFlow,
  useStore,
  useStoreApi,
  type Connection,
  type FinalConnectionState,
  type IsValidConnection,
  type OnConnectStartParams,
} from '@xyflow/react';
import { useCallback, useEffect, useRef, useState } from 'react';
import { runCommand, viewHooks } from '../commands';
import { isTypingTarget } from '../store/app';
import { categoryColor } from '../lib/colors';
import { useGraph } from '../store/app';
import { useCatalog } from '../store/catalog';
import type { FlowEdge, FlowNode } from '../store/graph';
import { useUi } from '../store/ui';
import { CanvasLayer } from './CanvasLayer';
import { nodeAt, TINY_ZOOM, type FarScene } from './farCanvas';
import { ForgeNode } from './ForgeNode';
import { FAR_ZOOM, shouldKeepAllMounted } from './keepMounted';
import { useCanvasLod } from './NodePreviews';
import { SubgraphBreadcrumb } from './SubgraphParts';

const nodeTypes = { forge: ForgeNode };
// Props React Flow copies into its store: fresh objects on each render (the canvas re-renders as
// the zoom crosses a level-of-detail threshold) would re-render every edge for a new
// defaultEdgeOptions and re-register key listeners for a new key list.
const defaultEdgeOptions = { type: 'default' };
const snapGrid: [number, number] = [8, 8];
const multiSelectionKeyCode = ['Meta', 'Control', 'Shift'];
const proOptions = { hideAttribution: true };
// Drawn on the canvas layer in canvas mode: React Flow then keeps no edge components, whose store
// selectors each recomputed their edge's ends on every pan step (a third of a pan frame's script).
const noEdges: FlowEdge[] = [];
const beginDrag = () => useGraph.getState().beginDrag();
const closeMenu = () => useUi.getState().closeMenu();
export const DRAG_MIME = 'application/x-forge-node-type';

/** Where a connection drag started, so dropping it on empty canvas can offer compatible nodes. */
export let pendingConnection: { nodeId: string; handleId: string; handleType: 'source' | 'target' } | null = null;
export function clearPendingConnection(): void {
  pendingConnection = null;
}

export function Canvas() {
  const nodes = useGraph((s) => s.nodes);
  const edges = useGraph((s) => s.edges);
  const docVersion = useGraph((s) => s.docVersion);
  const theme = useUi((s) => s.theme);
  const minimap = useUi((s) => s.minimap);
  const rf = useReactFlow<FlowNode, FlowEdge>();
  const wrapper = useRef<HTMLDivElement>(null);
  const pointer = useRef<{ x: number; y: number } | null>(null);
  const connectStart = useRef<OnConnectStartParams | null>(null);
  const dimStyle = useRef<HTMLStyleElement>(null);
  // Level of detail: zoomed far out, node text is unreadable anyway; drop it (and shadows) so big
  // graphs pan and zoom smoothly. A boolean selector re-renders only when the threshold is crossed.
  const far = useStore((s) => s.transform[2] < FAR_ZOOM);
  // Below 20 % even the large semantic-zoom type is a few pixels: draw plain coloured cards.
  // There the graph is drawn on one <canvas> (CanvasLayer) and React Flow's node and edge layers
  // are hidden but stay mounted, so zooming back in shows them without mounting 1000 nodes.
  const tiny = useStore((s) => s.transform[2] < TINY_ZOOM);
  const farScene = useRef<FarScene | null>(null);
  // Canvas mode starts as soon as the zoom goes below TINY_ZOOM, and ends when it goes above
  // FAR_ZOOM or when the gesture ends above TINY_ZOOM: a wheel zoom that swings across 20 % then
  // does not swap 1000 DOM nodes and their edges in and out at each crossing (a long frame each);
  // between 20 % and 50 % the title cards appear once the view stops.
  const zoomBand = useStore((s) => (s.transform[2] < TINY_ZOOM ? 0 : s.transform[2] < FAR_ZOOM ? 1 : 2));
  const [onCanvas, setOnCanvas] = useState(false);
  useEffect(() => useCanvasLod.setState({ far }), [far]);
  // Big graphs keep only the nodes in view in the DOM, except zoomed far out with (nearly) the
  // whole graph in view (see shouldKeepAllMounted): ~40 % fewer frames panning a 1000-node fit view.
  // Decided at rest, never halfway through a gesture, which would mount or unmount the off-screen
  // nodes in one long frame.
  const [keepAll, setKeepAll] = useState(false);
  const moving = useRef(false);
  const store = useStoreApi<FlowNode, FlowEdge>();
  const decideKeepAll = useCallback(() => {
    const s = store.getState();
    const placed = Array.from(s.nodeLookup.values(), (n) => ({ ...n.internals.positionAbsolute, width: n.measured.width ?? 0, height: n.measured.height ?? 0 }));
    setKeepAll((on) => shouldKeepAllMounted(placed, s.transform, s.width, s.height, on));
  }, [store]);
  useEffect(() => {
    if (!moving.current) decideKeepAll();
  }, [far, decideKeepAll]);
  useEffect(() => {
    if (zoomBand === 0) setOnCanvas(true);
    else if (zoomBand === 2 || !moving.current) setOnCanvas(false);
  }, [zoomBand]);

  useEffect(() => {
    viewHooks.fitView = () => void rf.fitView({ padding: 0.15, duration: 250, maxZoom: 1.2 });
    viewHooks.zoomIn = () => void rf.zoomIn({ duration: 150 });
    viewHooks.zoomOut = () => void rf.zoomOut({ duration: 150 });
    viewHooks.zoomReset = () => void rf.zoomTo(1, { duration: 150 });
    viewHooks.pasteAtPointer = () => {
      const p = pointer.current;
      useGraph.getState().paste(undefined, p ? rf.screenToFlowPosition(p) : undefined);
    };
  }, [rf]);

  // A freshly loaded document is framed once its nodes have been measured.
  useEffect(() => {
    if (docVersion === 0) return;
    const t = window.setTimeout(() => void rf.fitView({ padding: 0.06, maxZoom: 1 }), 60);
    return () => window.clearTimeout(t);
  }, [docVersion, rf]);

  const isValidConnection: IsValidConnection<FlowEdge> = useCallback((c) => {
    const check = useGraph.getState().checkConnection(c as Connection);
    useUi.getState().setConnectHint(check.ok ? null : check.reason);
    return check.ok;
  }, []);

  const onConnect = useCallback((c: Connection) => {
    const res = useGraph.getState().connect(c);
    if (!res.ok) useUi.getState().toast({ kind: 'error', title: 'Connection refused', detail: res.reason }, 6000);
  }, []);

  // While a connection is dragged, ports of another kind (or the same side) dim: the canvas carries
  // the dragged kind and side, and CSS does the rest without re-rendering a single node.
  const onConnectStart = useCallback((e: unknown, params: OnConnectStartParams) => {
    connectStart.current = params;
    const el = (e as { target?: EventTarget | null }).target;
    const kind = el instanceof HTMLElement ? el.closest('.react-flow__handle')?.getAttribute('data-kind') : null;
    if (wrapper.current && kind && params.handleType) {
      wrapper.current.dataset.connectKind = kind;
      wrapper.current.dataset.connectFrom = params.handleType;
      const other = params.handleType === 'source' ? 'target' : 'source';
      if (dimStyle.current) dimStyle.current.textContent = `.canvas[data-connect-kind] .react-flow__handle.${other}:not([data-kind="${CSS.escape(kind)}"]) { opacity: 0.15; }`;
    }
  }, []);

  const onConnectEnd = useCallback(
    (event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (wrapper.current) {
        delete wrapper.current.dataset.connectKind;
        delete wrapper.current.dataset.connectFrom;
      }
      if (dimStyle.current) dimStyle.current.textContent = '';
      const ui = useUi.getState();
      ui.setConnectHint(null);
      const from = state.fromHandle;
      if (!from) return;
      if (state.toHandle && !state.isValid) {
        const c: Connection =
          from.type === 'source'
            ? { source: from.nodeId, sourceHandle: from.id ?? null, target: state.toHandle.nodeId, targetHandle: state.toHandle.id ?? null }
            : { source: state.toHandle.nodeId, sourceHandle: state.toHandle.id ?? null, target: from.nodeId, targetHandle: from.id ?? null };
        const check = useGraph.getState().checkConnection(c);
        if (!check.ok) ui.toast({ kind: 'error', title: 'Connection refused', detail: check.reason }, 6000);
        return;
      }
      if (!state.toHandle && !state.toNode && from.id) {
        // Dropped on empty canvas: offer the palette, and connect whatever gets added.
        const pt = 'changedTouches' in event ? event.changedTouches[0] : event;
        if (!pt) return;
        pendingConnection = { nodeId: from.nodeId, handleId: from.id, handleType: from.type };
        ui.openPalette('', rf.screenToFlowPosition({ x: pt.clientX, y: pt.clientY }));
      }
    },
    [rf],
  );

  // While the user pans or zooms, a transparent shield covers the pane. Chromium hit-tests every
  // wheel and pointer event against each node and each edge's <svg> (about 2 ms per event at 1000
  // nodes, a tenth of a zoom's main-thread time); the topmost shield answers at once (0.01 ms).
  // It sits in React Flow's pane, so wheel events still bubble to its zoom handler. Programmatic
  // moves (fit view; auto-pan while dragging a connection, which finds its target handle by
  // hit-testing) have no source event and get no shield. Nothing re-renders.
  const shield = useRef<HTMLDivElement | null>(null);
  const onMoveStart = useCallback((event: MouseEvent | TouchEvent | null) => {
    moving.current = true;
    const pane = event ? wrapper.current?.querySelector('.react-flow__pane') : null;
    if (!pane) return;
    if (!shield.current) {
      shield.current = document.createElement('div');
      shield.current.className = 'move-shield';
    }
    pane.appendChild(shield.current);
  }, []);
  const onMoveEnd = useCallback(() => {
    moving.current = false;
    decideKeepAll();
    setOnCanvas(store.getState().transform[2] < TINY_ZOOM);
    shield.current?.remove();
  }, [decideKeepAll, store]);

  // With the node layer hidden, a press on a node reaches the pane: find the node on the canvas
  // layer and do what a press on the DOM node does (select it, drag it, open it, its menu). The
  // capture phase runs before the pane's pan and zoom handlers, which then never see the event.
  const farNodeAt = useCallback(
    (e: { clientX: number; clientY: number; target: EventTarget | null }) => {
      const scene = farScene.current;
      if (!scene || !(e.target instanceof Element) || !e.target.closest('.react-flow__pane')) return null;
      const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY }, { snapToGrid: false });
      return nodeAt(scene.nodes, p.x, p.y);
    },
    [rf],
  );
  const onFarPointerDown = useCallback(
    (e: React.PointerEvent) => {
      if (e.button !== 0) return;
      const hit = farNodeAt(e);
      if (!hit) return;
      e.stopPropagation();
      e.preventDefault();
      closeMenu();
      const g = useGraph.getState();
      const additive = e.shiftKey || e.ctrlKey || e.metaKey;
      const before = g.nodes.filter((n) => n.selected).map((n) => n.id);
      const selected = before.includes(hit.id) ? before : additive ? [...before, hit.id] : [hit.id];
      if (selected !== before) g.select(selected);
      const moving = new Set(selected);
      const start = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY }, { snapToGrid: false });
      const from = new Map(
        useGraph
          .getState()
          .nodes.filter((n) => moving.has(n.id))
          .map((n) => [n.id, n.position]),
      );
      let dragged = false;
      const snap = (v: number) => Math.round(v / snapGrid[0]) * snapGrid[0];
      const move = (ev: PointerEvent, dragging: boolean) => {
        const p = rf.screenToFlowPosition({ x: ev.clientX, y: ev.clientY }, { snapToGrid: false });
        const dx = p.x - start.x;
        const dy = p.y - start.y;
        if (!dragged) {
          // A click is not a drag: it moved under a few screen pixels.
          if (Math.hypot(dx, dy) * rf.getZoom() < 3) return;
          dragged = true;
          beginDrag();
        }
        g.onNodesChange([...from].map(([id, q]) => ({ type: 'position' as const, id, position: { x: snap(q.x + dx), y: snap(q.y + dy) }, dragging })));
      };
      const onMove = (ev: PointerEvent) => move(ev, true);
      const onUp = (ev: PointerEvent) => {
        window.removeEventListener('pointermove', onMove);
        window.removeEventListener('pointerup', onUp);
        if (dragged) move(ev, false);
      };
      window.addEventListener('pointermove', onMove);
      window.addEventListener('pointerup', onUp);
    },
    [farNodeAt, rf],
  );

  /** Passes a pane event over a node drawn on the canvas layer to that node's handler, as React Flow would. */
  const onFarNode = (e: React.MouseEvent, handler: (e: React.MouseEvent, node: FlowNode) => void) => {
    const hit = farNodeAt(e);
    if (!hit) return;
    e.stopPropagation();
    const node = useGraph.getState().nodes.find((n) => n.id === hit.id);
    if (node) handler(e, node);
  };

  const onDragOver = useCallback((e: React.DragEvent) => {
    if (!e.dataTransfer.types.includes(DRAG_MIME)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  }, []);

  const onDrop = useCallback(
    (e: React.DragEvent) => {
      const type = e.dataTransfer.getData(DRAG_MIME);
      if (!type) return;
      e.preventDefault();
      const info = useCatalog.getState().types.get(type);
      if (!info) return;
      const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      // Drop point = the node's title bar, roughly where the pointer grabbed the palette item.
      useGraph.getState().addNode(info, { x: Math.round(p.x - 110), y: Math.round(p.y - 20) });
    },
    [rf],
  );

  const onNodeContextMenu = useCallback(
    (e: React.MouseEvent, node: FlowNode) => {
      e.preventDefault();
      const g = useGraph.getState();
      if (!node.selected) g.select([node.id]);
      useUi.getState().openMenu({ x: e.clientX, y: e.clientY, nodeId: node.id, flow: rf.screenToFlowPosition({ x: e.clientX, y: e.clientY }) });
    },
    [rf],
  );

  const onPaneContextMenu = useCallback(
    (e: MouseEvent | React.MouseEvent) => {
      e.preventDefault();
      useUi.getState().openMenu({ x: e.clientX, y: e.clientY, nodeId: null, flow: rf.screenToFlowPosition({ x: e.clientX, y: e.clientY }) });
    },
    [rf],
  );

  const onNodeDoubleClick = useCallback((_e: React.MouseEvent, node: FlowNode) => {
    // A subgraph opens for editing, as a folder does; other nodes show their output.
    if (useGraph.getState().enterSubgraph(node.id)) return;
    useUi.getState().showOutput(node.id, null);
  }, []);

  return (
    <div
      className={`canvas${far ? ' lod-far' : ''}${tiny ? ' lod-tiny' : ''}${onCanvas ? ' lod-canvas' : ''}`}
      ref={wrapper}
      data-testid="canvas"
      onMouseMove={(e) => {
        pointer.current = { x: e.clientX, y: e.clientY };
      }}
      onPointerDownCapture={onCanvas ? onFarPointerDown : undefined}
      onMouseDownCapture={
        onCanvas
          ? (e) => {
              // The pane pans on mousedown (d3-zoom): not when the press is on a node.
              if (e.button === 0 && farNodeAt(e)) e.stopPropagation();
            }
          : undefined
      }
      onClickCapture={
        onCanvas
          ? (e) => {
              // Selection happened on pointerdown; the pane's click would clear it.
              if (farNodeAt(e)) e.stopPropagation();
            }
          : undefined
      }
      onDoubleClickCapture={onCanvas ? (e) => onFarNode(e, onNodeDoubleClick) : undefined}
      onContextMenuCapture={onCanvas ? (e) => onFarNode(e, onNodeContextMenu) : undefined}
      onKeyDownCapture={(e) => {
        // A clicked node has keyboard focus, and React Flow treats Enter on a focused node with
        // Shift held as "toggle selection": Shift+Enter deselected the node and ran nothing.
        // Run commands win over that before the event reaches the node.
        if (e.key !== 'Enter' || !e.shiftKey || isTypingTarget(e.target)) return;
        e.preventDefault();
        e.stopPropagation();
        runCommand(e.ctrlKey || e.metaKey ? 'run.from' : 'run.node');
      }}
    >
      <ReactFlow<FlowNode, FlowEdge>
        nodes={nodes}
        edges={onCanvas ? noEdges : edges}
        nodeTypes={nodeTypes}
        onNodesChange={useGraph.getState().onNodesChange}
        onEdgesChange={useGraph.getState().onEdgesChange}
        onConnect={onConnect}
        onConnectStart={onConnectStart}
        onConnectEnd={onConnectEnd}
        isValidConnection={isValidConnection}
        onNodeDragStart={beginDrag}
        onSelectionDragStart={beginDrag}
        onMoveStart={onMoveStart}
        onMoveEnd={onMoveEnd}
        onDragOver={onDragOver}
        onDrop={onDrop}
        onNodeContextMenu={onNodeContextMenu}
        onPaneContextMenu={onPaneContextMenu}
        onSelectionContextMenu={onPaneContextMenu}
        onNodeDoubleClick={onNodeDoubleClick}
        onPaneClick={closeMenu}
        deleteKeyCode={null}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={multiSelectionKeyCode}
        connectOnClick={false}
        connectionRadius={28}
        minZoom={0.04}
        maxZoom={2.5}
        snapToGrid
        snapGrid={snapGrid}
        onlyRenderVisibleElements={nodes.length > 150 && !keepAll}
        colorMode={theme}
        defaultEdgeOptions={defaultEdgeOptions}
        proOptions={proOptions}
      >
        <Background variant={BackgroundVariant.Dots} gap={20} size={1.2} />
        <CanvasLayer active={onCanvas} theme={theme} sceneRef={farScene} />
        {minimap ? (
          <MiniMap<FlowNode>
            style={{ width: 168, height: 112 }}
            pannable
            zoomable
            nodeColor={(n) => categoryColor(useCatalog.getState().types.get(n.data.type)?.category ?? 'Unknown')}
            nodeStrokeWidth={0}
            maskColor="var(--minimap-mask)"
          />
        ) : null}
        <Controls showInteractive={false}>
          <ControlButton
            onClick={() => useUi.getState().toggleMinimap()}
            title={minimap ? 'Hide the minimap' : 'Show the minimap'}
            aria-label="Toggle minimap"
            data-testid="minimap-toggle"
            className={minimap ? 'on' : ''}
          >
            ▦
          </ControlButton>
        </Controls>
      </ReactFlow>
      <style ref={dimStyle} />
      <ConnectHint />
      <SubgraphBreadcrumb />
      {nodes.length === 0 ? <EmptyState /> : null}
    </div>
  );
}

function ConnectHint() {
  const hint = useUi((s) => s.connectHint);
  if (!hint) return null;
  return (
    <div className="connect-hint" role="status" data-testid="connect-hint">
      ⚠ {hint}
    </div>
  );
}

function EmptyState() {
  return (
    <div className="empty-state">
      <div className="empty-card">
        <h2>Start a pipeline</h2>
        <p>Drag a node from the palette onto the canvas, or start typing to add one.</p>
        <div className="empty-actions">
          <button className="btn primary" onClick={() => useUi.getState().openPalette()}>
            Add node <kbd>Ctrl K</kbd>
          </button>
          <button className="btn" onClick={() => useUi.getState().openDialog({ kind: 'open' })}>
            Open a graph…
          </button>
        </div>
      </div>
    </div>
  );
}
