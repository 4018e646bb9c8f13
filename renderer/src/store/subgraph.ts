/**
 * Subgraphs on the canvas, as pure functions over React Flow nodes and edges: grouping a selection
 * into one subgraph node (its ports come from the edges the grouping cuts), the ports such a node
 * shows, and the one state that sums up its inner nodes. The engine does the real work: it
 * flattens subgraphs before planning (engine/graph/subgraph.ts), so inner nodes run, cache and
 * report as `sub/inner`, and the canvas reads their states under those ids.
 */
import type { GraphDocument, NodeTypeInfo, PortSpec } from '../api/types';
import { innerNodeId, SUBGRAPH_TYPE } from '../../../engine/contract/graph-format';
import { uniqueId } from '../lib/graph';
import type { NodeRunState } from './run';

export { SUBGRAPH_TYPE };

/** The `subgraph` field of a subgraph node (see engine/graph/document.ts). */
export type SubgraphSpec = NonNullable<GraphDocument['nodes'][number]['subgraph']>;
type Ports = { inputs: NonNullable<SubgraphSpec['inputs']>; outputs: NonNullable<SubgraphSpec['outputs']> };

interface NodeLike {
  id: string;
  position: { x: number; y: number };
  selected?: boolean;
  data: { type: string; label?: string; subgraph?: SubgraphSpec; params: Record<string, unknown> };
}
interface EdgeLike {
  id: string;
  source: string;
  target: string;
  sourceHandle?: string | null;
  targetHandle?: string | null;
}

/** A library component's document, as the canvas knows it (path → document). */
export type ComponentDocs = ReadonlyMap<string, GraphDocument>;

/** The ports a subgraph node shows: its own, or its library component's. */
export function subgraphPorts(spec: SubgraphSpec | undefined, components: ComponentDocs): Ports | null {
  if (!spec) return null;
  if (spec.component !== undefined) {
    const doc = components.get(spec.component);
    return doc ? { inputs: doc.inputs ?? {}, outputs: doc.outputs ?? {} } : null;
  }
  return { inputs: spec.inputs ?? {}, outputs: spec.outputs ?? {} };
}

/** A node-type description of a subgraph node, so ports, connections and the palette treat it like any node. */
export function subgraphInfo(spec: SubgraphSpec | undefined, components: ComponentDocs): NodeTypeInfo | undefined {
  const ports = subgraphPorts(spec, components);
  if (!ports || !spec) return undefined;
  const toSpec = (p: { kind: string; label?: string }, name: string): PortSpec => ({ kind: p.kind as PortSpec['kind'], title: p.label ?? name });
  const component = spec.component !== undefined ? components.get(spec.component) : undefined;
  return {
    type: SUBGRAPH_TYPE,
    version: 1,
    category: 'Subgraphs',
    title: component?.name ?? (spec.component ? spec.component.replace(/^.*\//, '').replace(/\.forge\.json$/, '') : 'Subgraph'),
    description: spec.component ? `Library component ${spec.component}` : `A subgraph of ${spec.nodes?.length ?? 0} nodes`,
    inputs: Object.fromEntries(Object.entries(ports.inputs).map(([k, p]) => [k, toSpec(p, k)])),
    outputs: Object.fromEntries(Object.entries(ports.outputs).map(([k, p]) => [k, toSpec(p, k)])),
    paramsSchema: { type: 'object', properties: {} },
    deterministic: true,
    worker: false,
    codeParams: [],
  };
}

export interface PortKinds {
  output(node: NodeLike, port: string): string | undefined;
  input(node: NodeLike, port: string): string | undefined;
}

/**
 * Replaces the selected nodes by one subgraph node holding them. Every edge the selection cuts
 * becomes a typed port: edges into the group from one outer output share one input (fanning out to
 * every inner port it fed); each inner output used outside becomes one output.
 */
export function groupIntoSubgraph<N extends NodeLike, E extends EdgeLike>(
  nodes: readonly N[],
  edges: readonly E[],
  ids: ReadonlySet<string>,
  kinds: PortKinds,
  makeNode: (id: string, position: { x: number; y: number }, spec: SubgraphSpec) => N,
  makeEdge: (source: string, sourceHandle: string, target: string, targetHandle: string) => E,
  toDoc: (nodes: N[], edges: E[]) => Pick<GraphDocument, 'nodes' | 'edges'>,
): { nodes: N[]; edges: E[]; id: string } | null {
  const inside = nodes.filter((n) => ids.has(n.id));
  if (inside.length === 0) return null;
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const minX = Math.min(...inside.map((n) => n.position.x));
  const minY = Math.min(...inside.map((n) => n.position.y));
  const inputs: Ports['inputs'] = {};
  const outputs: Ports['outputs'] = {};
  const inputBySource = new Map<string, string>();
  const outputBySource = new Map<string, string>();
  const outer: E[] = [];
  const innerEdges: E[] = [];
  const id = uniqueId('subgraph', new Set(nodes.map((n) => n.id)));
  const name = (want: string, taken: Record<string, unknown>) => uniqueId(want, new Set(Object.keys(taken)));

  for (const e of edges) {
    const fromIn = ids.has(e.source);
    const toIn = ids.has(e.target);
    const sp = e.sourceHandle ?? 'out';
    const tp = e.targetHandle ?? 'in';
    if (fromIn && toIn) innerEdges.push(e);
    else if (!fromIn && !toIn) outer.push(e);
    else if (toIn) {
      const key = `${e.source}.${sp}`;
      let port = inputBySource.get(key);
      const target = byId.get(e.target);
      if (port === undefined) {
        port = name(tp, inputs);
        inputBySource.set(key, port);
        const kind = (target && kinds.input(target, tp)) ?? (byId.get(e.source) && kinds.output(byId.get(e.source) as N, sp)) ?? 'dataset';
        inputs[port] = { kind, to: [] };
        outer.push(makeEdge(e.source, sp, id, port));
      }
      (inputs[port] as { to: { node: string; port: string }[] }).to.push({ node: e.target, port: tp });
    } else {
      const key = `${e.source}.${sp}`;
      let port = outputBySource.get(key);
      if (port === undefined) {
        port = name(sp, outputs);
        outputBySource.set(key, port);
        const source = byId.get(e.source);
        const kind = (source && kinds.output(source, sp)) ?? 'dataset';
        outputs[port] = { kind, from: { node: e.source, port: sp } };
      }
      outer.push(makeEdge(id, port, e.target, tp));
    }
  }

  // Inner nodes keep everything (labels, sweeps, pins, nested subgraphs); positions become relative.
  const inner = toDoc(
    inside.map((n) => ({ ...n, position: { x: n.position.x - minX, y: n.position.y - minY } })),
    innerEdges,
  );
  const spec: SubgraphSpec = {
    nodes: inner.nodes,
    edges: inner.edges,
    inputs,
    outputs,
  };
  const group = makeNode(id, { x: minX, y: minY }, spec);
  return { nodes: [...nodes.filter((n) => !ids.has(n.id)), group], edges: outer, id };
}

/** Ids under a subgraph (`sub/…`), e.g. the run states of its inner nodes, nested ones included. */
export function isInside(flatId: string, subgraphFullId: string): boolean {
  return flatId.startsWith(innerNodeId(subgraphFullId, ''));
}

/**
 * One state for a subgraph from its inner nodes' states: a failure or activity anywhere shows;
 * it is cached only when every inner node was, done when every one has a result.
 */
export function aggregateState(states: readonly NodeRunState[]): NodeRunState {
  if (states.length === 0) return 'idle';
  const any = (s: NodeRunState) => states.includes(s);
  for (const s of ['failed', 'running', 'queued', 'cancelled', 'stale'] as const) if (any(s)) return s;
  if (states.every((s) => s === 'cached' || s === 'pinned' || s === 'bypassed')) return 'cached';
  if (states.every((s) => s === 'cached' || s === 'done' || s === 'pinned' || s === 'bypassed')) return 'done';
  if (any('skipped')) return 'skipped';
  return 'idle';
}

/** A library component document for the subgraph `spec` (what "Save to library" writes). */
export function componentDocument(spec: SubgraphSpec, name: string, version: number, format: string): GraphDocument {
  return {
    format: format as GraphDocument['format'],
    version: version as GraphDocument['version'],
    name,
    seed: 0,
    nodes: spec.nodes ?? [],
    edges: spec.edges ?? [],
    inputs: spec.inputs ?? {},
    outputs: spec.outputs ?? {},
  };
}

/** The workspace folder the library lives in (engine/graph/components.ts says the same). */
export const COMPONENTS_FOLDER = 'components';

/** The file a component named `name` is saved to in the workspace library. */
export function componentPath(name: string): string {
  const stem =
    name
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'component';
  return `${COMPONENTS_FOLDER}/${stem}.forge.json`;
}
