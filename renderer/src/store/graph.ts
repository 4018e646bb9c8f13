import { applyEdgeChanges, applyNodeChanges, type Connection, type Edge, type EdgeChange, type Node, type NodeChange, type XYPosition } from '@xyflow/react';
import { create } from 'zustand';
import type { GraphDocument, NodeTypeInfo } from '../api/types';
import { GRAPH_FORMAT, GRAPH_VERSION } from '../../../engine/contract/graph-format';
import { layeredLayout, uniqueId } from '../lib/graph';
import { validateConnection, type ConnectionCheck } from './connection';
import { groupIntoSubgraph, subgraphInfo, SUBGRAPH_TYPE, type ComponentDocs, type SubgraphSpec } from './subgraph';

export interface NodeData extends Record<string, unknown> {
  type: string;
  params: Record<string, unknown>;
  typeVersion?: number;
  label?: string;
  notes?: string;
  bypass?: boolean;
  pinnedOutputs?: Record<string, string>;
  /** Sweep spec (run once per value / Dirichlet sample); see engine/graph/document.ts. */
  sweep?: SweepSpec;
  /** Only on subgraph nodes: the embedded graph or library component, and its ports. */
  subgraph?: SubgraphSpec;
  /** Document fields this UI does not know yet, kept so saving never drops them. */
  extra?: Record<string, unknown>;
}

export type SweepSpec = NonNullable<GraphDocument['nodes'][number]['sweep']>;

export type FlowNode = Node<NodeData, 'forge'>;
export type FlowEdge = Edge<{ docId?: string }>;

export interface DocMeta {
  name?: string;
  description?: string;
  seed: number;
  engineVersion?: string;
  pins?: GraphDocument['pins'];
  /** Top-level document fields this UI does not know yet (round-tripped untouched). */
  extra?: Record<string, unknown>;
}

const KNOWN_NODE_KEYS = new Set(['id', 'type', 'typeVersion', 'params', 'position', 'label', 'notes', 'bypass', 'pinnedOutputs', 'sweep', 'subgraph']);
// `migratedFrom` is the loader's note about the file as read; a saved document is current.
const KNOWN_DOC_KEYS = new Set(['format', 'version', 'engineVersion', 'name', 'description', 'seed', 'nodes', 'edges', 'pins', 'migratedFrom']);

function unknownFields(o: object, known: Set<string>): Record<string, unknown> | undefined {
  const rest = Object.fromEntries(Object.entries(o).filter(([k, v]) => !known.has(k) && v !== undefined));
  return Object.keys(rest).length > 0 ? rest : undefined;
}

interface Snapshot {
  nodes: FlowNode[];
  edges: FlowEdge[];
  meta: DocMeta;
}

/** The graph level above an opened subgraph: restored (with the subgraph's edits) on the way back. */
export interface SubgraphFrame extends Snapshot {
  subgraphId: string;
  title: string;
  past: Snapshot[];
  future: Snapshot[];
}

export interface ClipboardContent {
  nodes: FlowNode[];
  edges: FlowEdge[];
}

export interface GraphState extends Snapshot {
  path: string | null;
  dirty: boolean;
  /** False for imported/opened graphs with user code until the user says they trust them. */
  trusted: boolean;
  past: Snapshot[];
  future: Snapshot[];
  /** Coalesces rapid edits of one field (typing) into a single undo step. */
  lastCommit: { key: string; at: number } | null;
  clipboard: ClipboardContent | null;
  /** Bumps whenever a whole document is loaded, so views can fit and reset. */
  docVersion: number;
  /** Opened subgraphs, outermost first; empty at the top level of the document. */
  stack: SubgraphFrame[];
  /** The id prefix of the level shown (`prep/` inside subgraph prep): run states are keyed by full ids. */
  scope: string;

  load(doc: GraphDocument, opts?: { path?: string | null; trusted?: boolean }): void;
  newGraph(): void;
  setPath(path: string | null): void;
  markSaved(path: string): void;
  setTrusted(t: boolean): void;
  commit(key?: string): void;
  undo(): void;
  redo(): void;
  onNodesChange(changes: NodeChange<FlowNode>[]): void;
  onEdgesChange(changes: EdgeChange<FlowEdge>[]): void;
  beginDrag(): void;
  addNode(info: NodeTypeInfo, position: XYPosition): string;
  connect(c: Connection): ConnectionCheck;
  checkConnection(c: Connection): ConnectionCheck;
  setParam(nodeId: string, key: string, value: unknown): void;
  setLabel(nodeId: string, label: string): void;
  setNotes(nodeId: string, notes: string): void;
  setBypass(nodeIds: string[], bypass: boolean): void;
  setPinned(nodeId: string, pins: Record<string, string> | undefined): void;
  setSweep(nodeId: string, sweep: SweepSpec | undefined): void;
  setMeta(patch: Partial<DocMeta>): void;
  deleteSelected(): void;
  deleteNodes(ids: string[]): void;
  selectAll(): void;
  select(ids: string[]): void;
  copySelection(): ClipboardContent | null;
  paste(content?: ClipboardContent | null, at?: XYPosition): void;
  duplicate(ids?: string[]): void;
  /** Lays out the selection (2+ nodes) or the whole graph, as one undoable step; `computed` are
   *  positions from the ELK layout (renderer/src/canvas/autoLayout.ts), else a built-in layering. */
  autoLayout(computed?: ReadonlyMap<string, { x: number; y: number }>): void;
  /** Lines the selected nodes up on one edge or centre, or spaces them evenly (3+ nodes). */
  alignSelected(how: AlignMode): void;
  /** The whole document, with any opened subgraph's edits folded into it. */
  toDocument(): GraphDocument;
  /** Replaces the selected nodes by a subgraph node; its ports come from the edges the grouping cuts. */
  groupSelection(): string | null;
  /** Shows an embedded subgraph's inner graph for editing (the breadcrumb leads back). */
  enterSubgraph(id: string): boolean;
  /** Back up `levels` subgraph levels (all the way with Infinity), keeping the edits made inside. */
  exitSubgraph(levels?: number): void;
  setSubgraphExpanded(id: string, expanded: boolean): void;
  /** Adds a subgraph node that uses a library component (a workspace-relative *.forge.json). */
  insertComponent(path: string, position: XYPosition): string;
  /** Node type facts for any node, subgraph nodes included. */
  infoOf(node: { data: { type: string; subgraph?: SubgraphSpec } }): NodeTypeInfo | undefined;
}

export type AlignMode = 'left' | 'top' | 'center-x' | 'center-y' | 'distribute-x' | 'distribute-y';

const MAX_HISTORY = 200;
const COALESCE_MS = 1200;
export const DEFAULT_NODE_SIZE = { width: 232, height: 120 };

const emptyMeta = (): DocMeta => ({ name: 'Untitled pipeline', seed: 0 });

export function docToFlow(doc: GraphDocument): { nodes: FlowNode[]; edges: FlowEdge[]; meta: DocMeta } {
  const nodes: FlowNode[] = doc.nodes.map((n, i) => ({
    id: n.id,
    type: 'forge',
    position: n.position ?? { x: (i % 6) * 300, y: Math.floor(i / 6) * 200 },
    data: {
      type: n.type,
      params: { ...n.params },
      ...(n.typeVersion !== undefined ? { typeVersion: n.typeVersion } : {}),
      ...(n.label !== undefined ? { label: n.label } : {}),
      ...(n.notes !== undefined ? { notes: n.notes } : {}),
      ...(n.bypass ? { bypass: true } : {}),
      ...(n.pinnedOutputs ? { pinnedOutputs: { ...n.pinnedOutputs } } : {}),
      ...(n.sweep ? { sweep: structuredClone(n.sweep) } : {}),
      ...(n.subgraph ? { subgraph: structuredClone(n.subgraph) } : {}),
      ...(unknownFields(n, KNOWN_NODE_KEYS) ? { extra: unknownFields(n, KNOWN_NODE_KEYS) } : {}),
    },
  }));
  const edges: FlowEdge[] = doc.edges.map((e, i) => ({
    id: e.id ?? edgeId(e.from.node, e.from.port, e.to.node, e.to.port, i),
    source: e.from.node,
    sourceHandle: e.from.port,
    target: e.to.node,
    targetHandle: e.to.port,
    data: e.id ? { docId: e.id } : {},
  }));
  const meta: DocMeta = {
    name: doc.name,
    description: doc.description,
    seed: doc.seed ?? 0,
    engineVersion: doc.engineVersion,
    pins: doc.pins,
    extra: unknownFields(doc, KNOWN_DOC_KEYS),
  };
  return { nodes, edges, meta };
}

export function flowToDoc(nodes: readonly FlowNode[], edges: readonly FlowEdge[], meta: DocMeta): GraphDocument {
  const doc: GraphDocument = {
    format: GRAPH_FORMAT,
    version: GRAPH_VERSION,
    ...(meta.extra ?? {}),
    ...(meta.engineVersion ? { engineVersion: meta.engineVersion } : {}),
    ...(meta.name ? { name: meta.name } : {}),
    ...(meta.description ? { description: meta.description } : {}),
    seed: meta.seed,
    nodes: nodes.map((n) => {
      const params: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(n.data.params)) if (v !== undefined) params[k] = v;
      return {
        id: n.id,
        type: n.data.type,
        ...(n.data.typeVersion !== undefined ? { typeVersion: n.data.typeVersion } : {}),
        params,
        position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
        ...(n.data.label ? { label: n.data.label } : {}),
        ...(n.data.notes ? { notes: n.data.notes } : {}),
        ...(n.data.bypass ? { bypass: true } : {}),
        ...(n.data.sweep ? { sweep: n.data.sweep } : {}),
        ...(n.data.pinnedOutputs && Object.keys(n.data.pinnedOutputs).length > 0 ? { pinnedOutputs: n.data.pinnedOutputs } : {}),
        ...(n.data.subgraph ? { subgraph: n.data.subgraph } : {}),
        ...(n.data.extra ?? {}),
      };
    }),
    edges: edges.map((e) => ({
      ...(e.data?.docId ? { id: e.data.docId } : {}),
      from: { node: e.source, port: e.sourceHandle ?? '' },
      to: { node: e.target, port: e.targetHandle ?? '' },
    })),
    ...(meta.pins && Object.keys(meta.pins.files ?? {}).length > 0 ? { pins: meta.pins } : {}),
  };
  return doc;
}

function edgeId(s: string, sp: string | null | undefined, t: string, tp: string | null | undefined, salt?: number): string {
  return `e:${s}.${sp ?? ''}->${t}.${tp ?? ''}${salt !== undefined ? `#${salt}` : ''}`;
}

/** Does this document carry user code (SQL, expressions) that an untrusted import must not run? */
export function codeNodes(doc: Pick<GraphDocument, 'nodes'>, types: ReadonlyMap<string, NodeTypeInfo>): { nodeId: string; params: string[] }[] {
  const out: { nodeId: string; params: string[] }[] = [];
  for (const n of doc.nodes) {
    const info = types.get(n.type);
    const params = (info?.codeParams ?? []).filter((p) => {
      const v = n.params[p];
      return typeof v === 'string' ? v.trim() !== '' : v !== undefined && v !== null;
    });
    if (params.length > 0) out.push({ nodeId: n.id, params });
    // Code inside an embedded subgraph is code of this graph too (the engine flattens it to `sub/inner`).
    if (n.subgraph?.nodes) for (const c of codeNodes({ nodes: n.subgraph.nodes }, types)) out.push({ ...c, nodeId: `${n.id}/${c.nodeId}` });
  }
  return out;
}

export interface GraphStoreDeps {
  types(): ReadonlyMap<string, NodeTypeInfo>;
  /** Library components known to the canvas (path → document), for the ports of nodes that use them. */
  components?(): ComponentDocs;
  now?(): number;
}

export function createGraphStore(deps: GraphStoreDeps) {
  const now = deps.now ?? (() => Date.now());
  return create<GraphState>((set, get) => {
    const snapshot = (): Snapshot => {
      const s = get();
      return { nodes: s.nodes, edges: s.edges, meta: s.meta };
    };
    const components = (): ComponentDocs => deps.components?.() ?? new Map();
    const infoOf = (n: { data: { type: string; subgraph?: SubgraphSpec } }): NodeTypeInfo | undefined =>
      n.data.type === SUBGRAPH_TYPE ? subgraphInfo(n.data.subgraph, components()) : deps.types().get(n.data.type);
    /** Folds the shown level into the frames above it, innermost first: the document as a whole. */
    const composed = (): Snapshot => {
      const s = get();
      let inner: Snapshot = { nodes: s.nodes, edges: s.edges, meta: s.meta };
      for (let i = s.stack.length - 1; i >= 0; i--) {
        const frame = s.stack[i] as SubgraphFrame;
        const doc = flowToDoc(inner.nodes, inner.edges, inner.meta);
        inner = {
          nodes: frame.nodes.map((n) => (n.id === frame.subgraphId && n.data.subgraph ? { ...n, data: { ...n.data, subgraph: { ...n.data.subgraph, nodes: doc.nodes, edges: doc.edges } } } : n)),
          edges: frame.edges,
          // Graph settings (name, seed) belong to the whole document, whatever level edits them.
          meta: s.meta,
        };
      }
      return inner;
    };
    const mutateNode = (id: string, f: (d: NodeData) => NodeData) => set((s) => ({ nodes: s.nodes.map((n) => (n.id === id ? { ...n, data: f(n.data) } : n)), dirty: true }));

    return {
      nodes: [],
      edges: [],
      meta: emptyMeta(),
      path: null,
      dirty: false,
      trusted: true,
      past: [],
      future: [],
      lastCommit: null,
      clipboard: null,
      docVersion: 0,
      stack: [],
      scope: '',

      load: (doc, opts = {}) => {
        const { nodes, edges, meta } = docToFlow(doc);
        set((s) => ({
          nodes,
          edges,
          meta,
          path: opts.path ?? null,
          dirty: false,
          trusted: opts.trusted ?? true,
          past: [],
          future: [],
          lastCommit: null,
          docVersion: s.docVersion + 1,
          stack: [],
          scope: '',
        }));
      },
      newGraph: () =>
        set((s) => ({ nodes: [], edges: [], meta: emptyMeta(), path: null, dirty: false, trusted: true, past: [], future: [], lastCommit: null, docVersion: s.docVersion + 1, stack: [], scope: '' })),
      setPath: (path) => set({ path }),
      markSaved: (path) => set({ path, dirty: false }),
      setTrusted: (trusted) => set({ trusted }),

      commit: (key) => {
        const s = get();
        const t = now();
        if (key && s.lastCommit && s.lastCommit.key === key && t - s.lastCommit.at < COALESCE_MS) {
          set({ lastCommit: { key, at: t } });
          return;
        }
        const past = [...s.past, snapshot()];
        if (past.length > MAX_HISTORY) past.shift();
        set({ past, future: [], lastCommit: key ? { key, at: t } : null });
      },
      undo: () => {
        const s = get();
        const prev = s.past[s.past.length - 1];
        if (!prev) return;
        set({ ...prev, nodes: keepSelection(prev.nodes, s.nodes), past: s.past.slice(0, -1), future: [snapshot(), ...s.future], lastCommit: null, dirty: true });
      },
      redo: () => {
        const s = get();
        const next = s.future[0];
        if (!next) return;
        set({ ...next, nodes: keepSelection(next.nodes, s.nodes), past: [...s.past, snapshot()], future: s.future.slice(1), lastCommit: null, dirty: true });
      },

      onNodesChange: (changes) => {
        const removing = changes.filter((c) => c.type === 'remove').map((c) => c.id);
        if (removing.length > 0) {
          get().deleteNodes(removing);
          changes = changes.filter((c) => c.type !== 'remove');
          if (changes.length === 0) return;
        }
        const structural = changes.some((c) => c.type === 'add' || c.type === 'replace');
        if (structural) get().commit();
        const moved = changes.some((c) => c.type === 'position' && c.position);
        set((s) => ({ nodes: applyNodeChanges(changes, s.nodes), ...(moved || structural ? { dirty: true } : {}) }));
      },
      onEdgesChange: (changes) => {
        if (changes.some((c) => c.type === 'remove' || c.type === 'add' || c.type === 'replace')) get().commit();
        const structural = changes.some((c) => c.type !== 'select');
        set((s) => ({ edges: applyEdgeChanges(changes, s.edges), ...(structural ? { dirty: true } : {}) }));
      },
      beginDrag: () => get().commit(),

      addNode: (info, position) => {
        get().commit();
        const s = get();
        const base = info.type.split('.').pop() ?? 'node';
        const id = uniqueId(base.replace(/-/g, '_'), new Set(s.nodes.map((n) => n.id)));
        const params: Record<string, unknown> = {};
        const props = (info.paramsSchema.properties ?? {}) as Record<string, { default?: unknown }>;
        for (const [k, p] of Object.entries(props)) if (p.default !== undefined) params[k] = p.default;
        const node: FlowNode = { id, type: 'forge', position, data: { type: info.type, params }, selected: true };
        set({ nodes: [...s.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), node], edges: s.edges.map((e) => (e.selected ? { ...e, selected: false } : e)), dirty: true });
        return id;
      },
      checkConnection: (c) => {
        const s = get();
        return validateConnection({ nodes: s.nodes, edges: s.edges, types: deps.types(), infoOf }, c);
      },
      connect: (c) => {
        const check = get().checkConnection(c);
        if (!check.ok) return check;
        get().commit();
        set((s) => ({
          edges: [
            ...s.edges,
            { id: edgeId(c.source, c.sourceHandle, c.target, c.targetHandle), source: c.source, sourceHandle: c.sourceHandle, target: c.target, targetHandle: c.targetHandle, data: {} },
          ],
          dirty: true,
        }));
        return check;
      },

      setParam: (nodeId, key, value) => {
        const node = get().nodes.find((n) => n.id === nodeId);
        if (!node) return;
        if (Object.is(node.data.params[key], value)) return;
        get().commit(`param:${nodeId}:${key}`);
        mutateNode(nodeId, (d) => {
          const params = { ...d.params };
          if (value === undefined) delete params[key];
          else params[key] = value;
          return { ...d, params };
        });
      },
      setLabel: (nodeId, label) => {
        get().commit(`label:${nodeId}`);
        mutateNode(nodeId, (d) => {
          const next = { ...d };
          if (label.trim()) next.label = label;
          else delete next.label;
          return next;
        });
      },
      setNotes: (nodeId, notes) => {
        get().commit(`notes:${nodeId}`);
        mutateNode(nodeId, (d) => {
          const next = { ...d };
          if (notes.trim()) next.notes = notes;
          else delete next.notes;
          return next;
        });
      },
      setBypass: (ids, bypass) => {
        get().commit();
        const set_ = new Set(ids);
        set((s) => ({
          nodes: s.nodes.map((n) => {
            if (!set_.has(n.id)) return n;
            const data = { ...n.data };
            if (bypass) data.bypass = true;
            else delete data.bypass;
            return { ...n, data };
          }),
          dirty: true,
        }));
      },
      setPinned: (nodeId, pins) => {
        get().commit();
        mutateNode(nodeId, (d) => {
          const next = { ...d };
          if (pins && Object.keys(pins).length > 0) next.pinnedOutputs = pins;
          else delete next.pinnedOutputs;
          return next;
        });
      },
      setSweep: (nodeId, sweep) => {
        get().commit(`sweep:${nodeId}`);
        mutateNode(nodeId, (d) => {
          const next = { ...d };
          if (sweep) next.sweep = sweep;
          else delete next.sweep;
          return next;
        });
      },
      setMeta: (patch) => {
        get().commit(`meta:${Object.keys(patch).join(',')}`);
        set((s) => ({ meta: { ...s.meta, ...patch }, dirty: true }));
      },

      deleteSelected: () => {
        const s = get();
        const ids = s.nodes.filter((n) => n.selected).map((n) => n.id);
        const edgeIds = new Set(s.edges.filter((e) => e.selected).map((e) => e.id));
        if (ids.length === 0 && edgeIds.size === 0) return;
        get().commit();
        const gone = new Set(ids);
        set((st) => ({
          nodes: st.nodes.filter((n) => !gone.has(n.id)),
          edges: st.edges.filter((e) => !edgeIds.has(e.id) && !gone.has(e.source) && !gone.has(e.target)),
          dirty: true,
        }));
      },
      deleteNodes: (ids) => {
        if (ids.length === 0) return;
        get().commit();
        const gone = new Set(ids);
        set((s) => ({ nodes: s.nodes.filter((n) => !gone.has(n.id)), edges: s.edges.filter((e) => !gone.has(e.source) && !gone.has(e.target)), dirty: true }));
      },
      selectAll: () => set((s) => ({ nodes: s.nodes.map((n) => (n.selected ? n : { ...n, selected: true })) })),
      select: (ids) => {
        const want = new Set(ids);
        set((s) => ({
          nodes: s.nodes.map((n) => (!!n.selected === want.has(n.id) ? n : { ...n, selected: want.has(n.id) })),
          edges: s.edges.map((e) => (e.selected ? { ...e, selected: false } : e)),
        }));
      },

      copySelection: () => {
        const s = get();
        const nodes = s.nodes.filter((n) => n.selected);
        if (nodes.length === 0) return null;
        const ids = new Set(nodes.map((n) => n.id));
        const content: ClipboardContent = { nodes, edges: s.edges.filter((e) => ids.has(e.source) && ids.has(e.target)) };
        set({ clipboard: content });
        return content;
      },
      paste: (content, at) => {
        const clip = content ?? get().clipboard;
        if (!clip || clip.nodes.length === 0) return;
        get().commit();
        const s = get();
        const taken = new Set(s.nodes.map((n) => n.id));
        const rename = new Map<string, string>();
        for (const n of clip.nodes) {
          const id = uniqueId(n.id.replace(/_\d+$/, ''), taken);
          taken.add(id);
          rename.set(n.id, id);
        }
        const minX = Math.min(...clip.nodes.map((n) => n.position.x));
        const minY = Math.min(...clip.nodes.map((n) => n.position.y));
        const offset = at ? { x: at.x - minX, y: at.y - minY } : { x: 40, y: 40 };
        const nodes: FlowNode[] = clip.nodes.map((n) => ({
          id: rename.get(n.id) as string,
          type: 'forge',
          position: { x: n.position.x + offset.x, y: n.position.y + offset.y },
          data: structuredClone(n.data),
          selected: true,
        }));
        const edges: FlowEdge[] = clip.edges.map((e) => {
          const source = rename.get(e.source) as string;
          const target = rename.get(e.target) as string;
          return { id: edgeId(source, e.sourceHandle, target, e.targetHandle), source, target, sourceHandle: e.sourceHandle, targetHandle: e.targetHandle, data: {} };
        });
        set({
          nodes: [...s.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), ...nodes],
          edges: [...s.edges.map((e) => (e.selected ? { ...e, selected: false } : e)), ...edges],
          // The pasted copy keeps the clipboard's positions relative to each other; pasting again offsets further.
          clipboard: at ? clip : { nodes: nodes.map((n) => ({ ...n, selected: false })), edges },
          dirty: true,
        });
      },
      duplicate: (ids) => {
        const s = get();
        const want = new Set(ids ?? s.nodes.filter((n) => n.selected).map((n) => n.id));
        const nodes = s.nodes.filter((n) => want.has(n.id));
        if (nodes.length === 0) return;
        const saved = s.clipboard;
        get().paste({ nodes, edges: s.edges.filter((e) => want.has(e.source) && want.has(e.target)) });
        set({ clipboard: saved });
      },
      autoLayout: (computed) => {
        const s = get();
        if (s.nodes.length === 0) return;
        get().commit();
        const selected = s.nodes.filter((n) => n.selected);
        const subset = selected.length > 1 ? selected : s.nodes;
        const pos =
          computed ??
          layeredLayout(
            subset.map((n) => ({ id: n.id, width: n.measured?.width ?? DEFAULT_NODE_SIZE.width, height: n.measured?.height ?? DEFAULT_NODE_SIZE.height })),
            s.edges,
          );
        // Laying out a selection keeps it where it was (top-left anchored).
        const anchor = selected.length > 1 ? { x: Math.min(...subset.map((n) => n.position.x)), y: Math.min(...subset.map((n) => n.position.y)) } : { x: 0, y: 0 };
        set({
          nodes: s.nodes.map((n) => {
            const p = pos.get(n.id);
            return p ? { ...n, position: { x: anchor.x + p.x, y: anchor.y + p.y } } : n;
          }),
          dirty: true,
        });
      },
      alignSelected: (how) => {
        const s = get();
        const sel = s.nodes.filter((n) => n.selected);
        if (sel.length < 2 || (how.startsWith('distribute') && sel.length < 3)) return;
        get().commit();
        const pos = alignPositions(
          sel.map((n) => ({ id: n.id, x: n.position.x, y: n.position.y, width: n.measured?.width ?? DEFAULT_NODE_SIZE.width, height: n.measured?.height ?? DEFAULT_NODE_SIZE.height })),
          how,
        );
        set({ nodes: s.nodes.map((n) => (pos.has(n.id) ? { ...n, position: pos.get(n.id) as XYPosition } : n)), dirty: true });
      },
      toDocument: () => {
        const whole = composed();
        return flowToDoc(whole.nodes, whole.edges, whole.meta);
      },
      infoOf,
      groupSelection: () => {
        const s = get();
        const ids = new Set(s.nodes.filter((n) => n.selected).map((n) => n.id));
        if (ids.size === 0) return null;
        const portKind = (dir: 'inputs' | 'outputs') => (n: FlowNode, port: string) => infoOf(n)?.[dir][port]?.kind;
        const grouped = groupIntoSubgraph(
          s.nodes,
          s.edges,
          ids,
          { input: portKind('inputs'), output: portKind('outputs') },
          (id, position, subgraph): FlowNode => ({ id, type: 'forge', position, data: { type: SUBGRAPH_TYPE, params: {}, subgraph }, selected: true }),
          (source, sourceHandle, target, targetHandle): FlowEdge => ({ id: edgeId(source, sourceHandle, target, targetHandle), source, sourceHandle, target, targetHandle, data: {} }),
          (nodes, edges) => flowToDoc(nodes, edges, s.meta),
        );
        if (!grouped) return null;
        get().commit();
        set({ nodes: grouped.nodes, edges: grouped.edges, dirty: true });
        return grouped.id;
      },
      enterSubgraph: (id) => {
        const s = get();
        const node = s.nodes.find((n) => n.id === id);
        const spec = node?.data.subgraph;
        // A library component is edited in its own file, so every graph using it sees the change.
        if (!node || !spec || spec.component !== undefined) return false;
        const inner = docToFlow({ format: GRAPH_FORMAT, version: GRAPH_VERSION, seed: s.meta.seed, nodes: spec.nodes ?? [], edges: spec.edges ?? [] });
        const frame: SubgraphFrame = { nodes: s.nodes, edges: s.edges, meta: s.meta, past: s.past, future: s.future, subgraphId: id, title: node.data.label || id };
        set({ stack: [...s.stack, frame], scope: `${s.scope}${id}/`, nodes: inner.nodes, edges: inner.edges, past: [], future: [], lastCommit: null, docVersion: s.docVersion + 1 });
        return true;
      },
      exitSubgraph: (levels = 1) => {
        const s = get();
        const n = Math.min(levels, s.stack.length);
        if (n <= 0) return;
        // Fold every level being left into its parent, then show the parent.
        let nodes = s.nodes;
        let edges = s.edges;
        let changed = s.past.length > 0;
        let frame = s.stack[s.stack.length - 1] as SubgraphFrame;
        for (let i = 0; i < n; i++) {
          frame = s.stack[s.stack.length - 1 - i] as SubgraphFrame;
          const doc = flowToDoc(nodes, edges, frame.meta);
          const before = frame.nodes.find((x) => x.id === frame.subgraphId)?.data.subgraph;
          const after = before ? { ...before, nodes: doc.nodes, edges: doc.edges } : before;
          changed ||= JSON.stringify(before?.nodes) !== JSON.stringify(after?.nodes) || JSON.stringify(before?.edges) !== JSON.stringify(after?.edges);
          nodes = frame.nodes.map((x) => (x.id === frame.subgraphId && after ? { ...x, data: { ...x.data, subgraph: after } } : x));
          edges = frame.edges;
          if (i < n - 1) frame = { ...frame, nodes, edges };
        }
        const stack = s.stack.slice(0, s.stack.length - n);
        const scope = stack.map((f) => `${f.subgraphId}/`).join('');
        // Edits made inside are one undo step at the level shown now.
        const past = changed ? [...frame.past, { nodes: frame.nodes, edges: frame.edges, meta: frame.meta }] : frame.past;
        set({ stack, scope, nodes, edges, meta: s.meta, past, future: changed ? [] : frame.future, lastCommit: null, docVersion: s.docVersion + 1 });
      },
      setSubgraphExpanded: (id, expanded) => {
        mutateNode(id, (d) => (d.subgraph ? { ...d, subgraph: { ...d.subgraph, expanded } } : d));
      },
      insertComponent: (path, position) => {
        get().commit();
        const s = get();
        const stem = path.replace(/^.*\//, '').replace(/\.forge\.json$/, '');
        const id = uniqueId(stem.replace(/-/g, '_'), new Set(s.nodes.map((n) => n.id)));
        const name = components().get(path)?.name;
        const node: FlowNode = { id, type: 'forge', position, data: { type: SUBGRAPH_TYPE, params: {}, ...(name ? { label: name } : {}), subgraph: { component: path } }, selected: true };
        set({ nodes: [...s.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), node], dirty: true });
        return id;
      },
    };
  });
}

/** Undo/redo restore the graph, not the selection the user has now (unless the node is gone). */
function keepSelection(restored: FlowNode[], current: FlowNode[]): FlowNode[] {
  const sel = new Map(current.map((n) => [n.id, !!n.selected]));
  return restored.map((n) => {
    const want = sel.get(n.id) ?? false;
    return !!n.selected === want ? n : { ...n, selected: want };
  });
}

interface Box {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** New top-left positions for `alignSelected`; distributing keeps the outermost two in place. */
export function alignPositions(boxes: readonly Box[], how: AlignMode): Map<string, XYPosition> {
  const out = new Map<string, XYPosition>();
  if (how === 'left') {
    const x = Math.min(...boxes.map((b) => b.x));
    for (const b of boxes) out.set(b.id, { x, y: b.y });
  } else if (how === 'top') {
    const y = Math.min(...boxes.map((b) => b.y));
    for (const b of boxes) out.set(b.id, { x: b.x, y });
  } else if (how === 'center-x') {
    const c = boxes.reduce((s, b) => s + b.x + b.width / 2, 0) / boxes.length;
    for (const b of boxes) out.set(b.id, { x: c - b.width / 2, y: b.y });
  } else if (how === 'center-y') {
    const c = boxes.reduce((s, b) => s + b.y + b.height / 2, 0) / boxes.length;
    for (const b of boxes) out.set(b.id, { x: b.x, y: c - b.height / 2 });
  } else {
    const horizontal = how === 'distribute-x';
    const start = (b: Box) => (horizontal ? b.x : b.y);
    const size = (b: Box) => (horizontal ? b.width : b.height);
    const sorted = [...boxes].sort((a, b) => start(a) - start(b));
    const first = sorted[0] as Box;
    const last = sorted[sorted.length - 1] as Box;
    const used = sorted.reduce((s, b) => s + size(b), 0);
    const gap = (start(last) + size(last) - start(first) - used) / (sorted.length - 1);
    let at = start(first);
    for (const b of sorted) {
      out.set(b.id, horizontal ? { x: at, y: b.y } : { x: b.x, y: at });
      at += size(b) + gap;
    }
  }
  return out;
}

/**
 * The position nearest to `want` (searching rings of candidate offsets) where a default-sized node
 * overlaps no existing node, with a small margin; `want` itself when nothing is in the way.
 */
export function freeSpot(nodes: readonly Pick<FlowNode, 'position' | 'measured'>[], want: XYPosition): XYPosition {
  const margin = 16;
  const { width, height } = DEFAULT_NODE_SIZE;
  const free = (p: XYPosition) =>
    nodes.every((n) => {
      const w = n.measured?.width ?? DEFAULT_NODE_SIZE.width;
      const h = n.measured?.height ?? DEFAULT_NODE_SIZE.height;
      return p.x + width + margin <= n.position.x || n.position.x + w + margin <= p.x || p.y + height + margin <= n.position.y || n.position.y + h + margin <= p.y;
    });
  if (free(want)) return want;
  const step = 40;
  for (let ring = 1; ring <= 30; ring++) {
    let best: XYPosition | null = null;
    let bestDist = Infinity;
    for (let dx = -ring; dx <= ring; dx++) {
      for (let dy = -ring; dy <= ring; dy++) {
        if (Math.max(Math.abs(dx), Math.abs(dy)) !== ring) continue;
        const p = { x: want.x + dx * step, y: want.y + dy * step };
        // Ties go below, then right: where a reader expects the next step of a pipeline.
        const d = Math.hypot(dx, dy) + (dy < 0 ? 0.01 : 0) + (dx < 0 ? 0.005 : 0);
        if (d < bestDist && free(p)) {
          best = p;
          bestDist = d;
        }
      }
    }
    if (best) return best;
  }
  return want;
}
