import { innerNodeId, SUBGRAPH_TYPE } from '../contract/graph-format.js';
import type { GraphDocument, GraphEdge, GraphNode, PortRef, SubgraphInput, SubgraphOutput } from './document.js';
import type { Diagnostic } from './errors.js';

/**
 * Subgraphs are a document-level idea only: before validation and planning the engine replaces each
 * subgraph node by its inner nodes (ids prefixed `sub/`) and rewires the edges that touched the
 * subgraph's ports to the inner ports they map to. Everything after that (validation, cache keys,
 * provenance, `forge plan`) sees an ordinary graph, so a grouped graph and its ungrouped
 * equivalent hash, cache and record the same way: cache keys never include node ids.
 */

/** A subgraph's ports, in flattened ids: where an outer edge into `in` lands, and what `out` is. */
interface FlatPorts {
  inputs: Map<string, { kind: string; to: PortRef[] }>;
  outputs: Map<string, { kind: string; from: PortRef }>;
}

export interface LoadedComponent {
  doc: GraphDocument;
  /** Identity for cycle detection (the component file's real path). */
  key: string;
}

export interface FlattenOptions {
  /** Reads a library component (workspace-relative path); throws an Error saying why it cannot. */
  loadComponent?: (path: string) => LoadedComponent;
  /** A node type's port kind, or undefined if the type has no such port, or null if the type is unknown. */
  portKind?: (type: string, direction: 'input' | 'output', port: string) => string | undefined | null;
  /** Nesting deeper than this is refused (a component that uses itself through another). */
  maxDepth?: number;
  /** Flattened graphs larger than this are refused (components nested many times multiply). */
  maxNodes?: number;
  file?: string;
}

export interface Flattened {
  /** The graph with no subgraph nodes left; the input document itself when it had none. */
  doc: GraphDocument;
  diagnostics: Diagnostic[];
}

export const MAX_SUBGRAPH_DEPTH = 16;
export const MAX_FLAT_NODES = 20_000;

export function hasSubgraphs(doc: GraphDocument): boolean {
  return doc.nodes.some((n) => n.type === SUBGRAPH_TYPE || n.subgraph !== undefined);
}

export function flattenSubgraphs(doc: GraphDocument, opts: FlattenOptions = {}): Flattened {
  if (!hasSubgraphs(doc)) return { doc, diagnostics: [] };
  const f = new Flattener(opts);
  const { nodes, edges } = f.level(doc.nodes, doc.edges, '', 0, []);
  // Interface fields describe the document as a component; the flattened graph is what runs.
  const { inputs: _inputs, outputs: _outputs, ...rest } = doc;
  return { doc: { ...rest, nodes, edges }, diagnostics: f.diagnostics };
}

class Flattener {
  readonly diagnostics: Diagnostic[] = [];
  private count = 0;
  private tooLarge = false;

  constructor(private readonly opts: FlattenOptions) {}

  private error(nodeId: string, code: string, field: string, message: string): void {
    this.diagnostics.push({ severity: 'error', code, file: this.opts.file, nodeId, field, message });
  }

  /** Flattens one graph level whose nodes get `prefix`; `stack` holds the components being expanded. */
  level(nodes: readonly GraphNode[], edges: readonly GraphEdge[], prefix: string, depth: number, stack: string[]): { nodes: GraphNode[]; edges: GraphEdge[]; ports: Map<string, FlatPorts> } {
    const flatNodes: GraphNode[] = [];
    const flatEdges: GraphEdge[] = [];
    const ports = new Map<string, FlatPorts>();
    const types = new Map<string, string>();
    for (const node of nodes) {
      const id = prefix + node.id;
      types.set(node.id, node.type);
      if (node.type !== SUBGRAPH_TYPE) {
        if (node.subgraph !== undefined) this.error(id, 'invalid-subgraph', 'subgraph', `only nodes of type "${SUBGRAPH_TYPE}" have a subgraph definition (this node is ${node.type})`);
        if (++this.count > (this.opts.maxNodes ?? MAX_FLAT_NODES)) this.tooLarge = true;
        else flatNodes.push({ ...node, id });
        continue;
      }
      const inner = this.subgraph(node, id, depth, stack);
      if (!inner) continue;
      flatNodes.push(...inner.nodes);
      flatEdges.push(...inner.edges);
      ports.set(node.id, inner.ports);
    }
    if (this.tooLarge && prefix === '') {
      this.error(nodes[0]?.id ?? '', 'graph-too-large', 'nodes', `with its subgraphs expanded the graph has more than ${this.opts.maxNodes ?? MAX_FLAT_NODES} nodes`);
    }

    for (const edge of edges) {
      const edgeId = edge.id !== undefined ? prefix + edge.id : undefined;
      const fromPorts = ports.get(edge.from.node);
      let from: PortRef = { node: prefix + edge.from.node, port: edge.from.port };
      if (fromPorts) {
        const out = fromPorts.outputs.get(edge.from.port);
        if (!out) {
          const names = [...fromPorts.outputs.keys()].join(', ') || 'none';
          this.error(prefix + edge.from.node, 'unknown-port', 'from.port', `subgraph "${prefix + edge.from.node}" has no output "${edge.from.port}" (outputs: ${names})`);
          continue;
        }
        from = out.from;
      } else if (types.get(edge.from.node) === SUBGRAPH_TYPE) continue; // the subgraph itself was refused
      const toPorts = ports.get(edge.to.node);
      if (!toPorts) {
        if (types.get(edge.to.node) === SUBGRAPH_TYPE) continue;
        flatEdges.push({ ...(edgeId !== undefined ? { id: edgeId } : {}), from, to: { node: prefix + edge.to.node, port: edge.to.port } });
        continue;
      }
      const inp = toPorts.inputs.get(edge.to.port);
      if (!inp) {
        const names = [...toPorts.inputs.keys()].join(', ') || 'none';
        this.error(prefix + edge.to.node, 'unknown-port', 'to.port', `subgraph "${prefix + edge.to.node}" has no input "${edge.to.port}" (inputs: ${names})`);
        continue;
      }
      // One outer edge feeds every inner port the subgraph input maps to.
      inp.to.forEach((to, k) => {
        const id = edgeId !== undefined ? (k === 0 ? edgeId : `${edgeId}~${k}`) : undefined;
        flatEdges.push({ ...(id !== undefined ? { id } : {}), from, to });
      });
    }
    return { nodes: flatNodes, edges: flatEdges, ports };
  }

  private subgraph(node: GraphNode, id: string, depth: number, stack: string[]): { nodes: GraphNode[]; edges: GraphEdge[]; ports: FlatPorts } | null {
    const spec = node.subgraph;
    if (!spec) {
      this.error(id, 'invalid-subgraph', 'subgraph', `subgraph "${id}" has no definition (expected "subgraph": { nodes, edges, inputs, outputs } or { component })`);
      return null;
    }
    for (const field of ['sweep', 'bypass', 'pinnedOutputs'] as const) {
      if (node[field] !== undefined) this.error(id, 'invalid-subgraph', field, `subgraph "${id}" cannot have "${field}"; set it on a node inside the subgraph`);
    }
    if (Object.keys(node.params ?? {}).length > 0) this.error(id, 'invalid-subgraph', 'params', `subgraph "${id}" takes no params; edit the nodes inside it`);
    if (depth >= (this.opts.maxDepth ?? MAX_SUBGRAPH_DEPTH)) {
      this.error(id, 'subgraph-too-deep', 'subgraph', `subgraph "${id}" is nested more than ${this.opts.maxDepth ?? MAX_SUBGRAPH_DEPTH} levels deep`);
      return null;
    }
    let body: { nodes: GraphNode[]; edges: GraphEdge[]; inputs: Record<string, SubgraphInput>; outputs: Record<string, SubgraphOutput> };
    let innerStack = stack;
    if (spec.component !== undefined) {
      if (spec.nodes !== undefined) {
        this.error(id, 'invalid-subgraph', 'subgraph', `subgraph "${id}" has both "component" and embedded "nodes"; keep one`);
        return null;
      }
      if (!this.opts.loadComponent) {
        this.error(id, 'component-unavailable', 'subgraph.component', `subgraph "${id}" uses component ${spec.component}, which cannot be read here`);
        return null;
      }
      let loaded: LoadedComponent;
      try {
        loaded = this.opts.loadComponent(spec.component);
      } catch (err) {
        this.error(id, 'component-unavailable', 'subgraph.component', `subgraph "${id}": component ${spec.component}: ${(err as Error).message}`);
        return null;
      }
      if (stack.includes(loaded.key)) {
        this.error(id, 'subgraph-cycle', 'subgraph.component', `subgraph "${id}": component ${spec.component} uses itself`);
        return null;
      }
      innerStack = [...stack, loaded.key];
      body = { nodes: loaded.doc.nodes, edges: loaded.doc.edges, inputs: loaded.doc.inputs ?? {}, outputs: loaded.doc.outputs ?? {} };
    } else {
      body = { nodes: spec.nodes ?? [], edges: spec.edges ?? [], inputs: spec.inputs ?? {}, outputs: spec.outputs ?? {} };
    }

    const prefix = innerNodeId(id, '');
    const inner = this.level(body.nodes, body.edges, prefix, depth + 1, innerStack);
    const byId = new Map(body.nodes.map((n) => [n.id, n]));
    const ports: FlatPorts = { inputs: new Map(), outputs: new Map() };

    for (const [name, input] of Object.entries(body.inputs)) {
      const to: PortRef[] = [];
      for (const ref of input.to) {
        for (const flat of this.innerRef(id, byId, inner.ports, ref, 'input', input.kind, `inputs.${name}`)) to.push(flat);
      }
      ports.inputs.set(name, { kind: input.kind, to });
    }
    for (const [name, output] of Object.entries(body.outputs)) {
      const [from] = this.innerRef(id, byId, inner.ports, output.from, 'output', output.kind, `outputs.${name}`);
      if (from) ports.outputs.set(name, { kind: output.kind, from });
    }
    return { nodes: inner.nodes, edges: inner.edges, ports };
  }

  /** The flattened port(s) an interface entry names, checked to exist and to have the declared kind. */
  private innerRef(subId: string, byId: Map<string, GraphNode>, innerPorts: Map<string, FlatPorts>, ref: PortRef, direction: 'input' | 'output', kind: string, field: string): PortRef[] {
    const node = byId.get(ref.node);
    const where = `subgraph "${subId}", ${field}`;
    if (!node) {
      this.error(subId, 'subgraph-port', `subgraph.${field}`, `${where}: inner node "${ref.node}" is not in the subgraph`);
      return [];
    }
    const nested = innerPorts.get(ref.node);
    if (nested) {
      if (direction === 'input') {
        const p = nested.inputs.get(ref.port);
        if (p && p.kind === kind) return p.to;
      } else {
        const p = nested.outputs.get(ref.port);
        if (p && p.kind === kind) return [p.from];
      }
      this.error(subId, 'subgraph-port', `subgraph.${field}`, `${where}: inner subgraph "${ref.node}" has no ${direction} "${ref.port}" of kind ${kind}`);
      return [];
    }
    if (node.type === SUBGRAPH_TYPE) return []; // that subgraph was refused and reported already
    const actual = this.opts.portKind?.(node.type, direction, ref.port);
    if (actual === undefined && this.opts.portKind) {
      this.error(subId, 'subgraph-port', `subgraph.${field}`, `${where}: inner node "${ref.node}" (${node.type}) has no ${direction} "${ref.port}"`);
      return [];
    }
    if (typeof actual === 'string' && actual !== kind) {
      this.error(subId, 'kind-mismatch', `subgraph.${field}`, `${where}: declared ${kind}, but inner node "${ref.node}" ${direction} "${ref.port}" is ${actual}`);
      return [];
    }
    return [{ node: innerNodeId(subId, ref.node), port: ref.port }];
  }
}

/**
 * Words a diagnostic about a flattened node so that it names the subgraph and the inner node:
 * `in subgraph "prep", node "filter": …`. Diagnostics about top-level nodes are returned as they are.
 */
export function nameSubgraphInDiagnostic(d: Diagnostic): Diagnostic {
  const id = d.nodeId;
  if (!id) return d;
  const cut = id.lastIndexOf('/');
  if (cut < 0) return d;
  return { ...d, message: `in subgraph "${id.slice(0, cut)}", node "${id.slice(cut + 1)}": ${d.message}` };
}
