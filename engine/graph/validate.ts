import { edgeProblem } from '../contract/edge-rules.js';
import type { NodeRegistry } from '../registry.js';
import type { NodeType } from '../sdk/types.js';
import type { GraphDocument, GraphNode, PortRef } from './document.js';
import type { Diagnostic } from './errors.js';
import { zodDiagnostics } from './load.js';
import { topology, type Topology } from './topology.js';
import { getPath, hasSchemaPath, setPath, sweepVariants } from './sweep.js';

/** A graph that passed validation: params parsed (defaults applied), inputs resolved, order fixed. */
export interface ValidGraph {
  doc: GraphDocument;
  nodes: Map<string, GraphNode>;
  params: Map<string, Record<string, unknown>>;
  /** node id → input port → the outputs feeding it (one, or several for a fan-in input) */
  incoming: Map<string, Map<string, PortRef[]>>;
  topo: Topology;
}

export interface ValidationResult {
  diagnostics: Diagnostic[];
  graph?: ValidGraph;
}

export function validateGraph(doc: GraphDocument, registry: NodeRegistry, file?: string): ValidationResult {
  const diagnostics: Diagnostic[] = [];
  const error = (d: Omit<Diagnostic, 'severity' | 'file'>) => diagnostics.push({ severity: 'error', file, ...d });
  const nodes = new Map<string, GraphNode>();
  const params = new Map<string, Record<string, unknown>>();

  let migrated = false;
  for (let node of doc.nodes) {
    if (nodes.has(node.id)) {
      error({ code: 'duplicate-id', nodeId: node.id, field: 'id', message: `two nodes share the id "${node.id}"` });
      continue;
    }
    const def = registry.get(node.type);
    if (!def) {
      nodes.set(node.id, node);
      error({ code: 'unknown-type', nodeId: node.id, field: 'type', message: `unknown node type "${node.type}" (kept as a placeholder; install or rename it to run)` });
      continue;
    }
    if (node.typeVersion !== undefined && node.typeVersion > def.version) {
      nodes.set(node.id, node);
      error({
        code: 'future-type-version',
        nodeId: node.id,
        field: 'typeVersion',
        message: `written for ${node.type} version ${node.typeVersion}; this engine has version ${def.version}`,
      });
    }
    const upgraded = upgradeNode(node, def);
    if ('error' in upgraded) {
      nodes.set(node.id, node);
      error({ code: 'outdated-type-version', nodeId: node.id, field: 'typeVersion', message: upgraded.error });
      continue;
    }
    if (upgraded.node !== node) {
      migrated = true;
      diagnostics.push({
        severity: 'warning',
        code: 'migrated-type-version',
        file,
        nodeId: node.id,
        field: 'typeVersion',
        message: `params migrated from ${node.type} version ${node.typeVersion} to ${def.version}; save the graph to keep the migration`,
      });
      node = upgraded.node;
    }
    nodes.set(node.id, node);
    if (node.sweep) {
      const keys = node.sweep.dirichlet ? node.sweep.dirichlet.params : [node.sweep.param as string];
      for (const key of keys) {
        if (getPath(node.params, key) === undefined && !hasSchemaPath(def.params, key)) {
          error({ code: 'invalid-sweep', nodeId: node.id, field: `sweep`, message: `${node.type} has no param "${key}" to sweep` });
        }
      }
      for (const variant of sweepVariants(node.id, node.sweep, doc.seed)) {
        const trial = structuredClone(node.params);
        for (const [k, v] of Object.entries(variant)) setPath(trial, k.slice(node.id.length + 1), v);
        const r = def.params.safeParse(trial);
        if (!r.success) {
          const d = zodDiagnostics(r.error, { code: 'invalid-sweep', nodeId: node.id })[0];
          error({ code: 'invalid-sweep', nodeId: node.id, field: `sweep`, message: `sweep value ${JSON.stringify(variant)} is not a valid param: ${d?.field ?? ''} ${d?.message ?? ''}`.trim() });
          break;
        }
      }
    }
    const parsed = def.params.safeParse(node.params);
    if (parsed.success) params.set(node.id, parsed.data);
    else {
      for (const d of zodDiagnostics(parsed.error, { code: 'invalid-params', nodeId: node.id })) {
        diagnostics.push({ ...d, file, field: d.field ? `params.${d.field}` : 'params' });
      }
    }
  }

  const incoming = new Map<string, Map<string, PortRef[]>>();
  for (const id of nodes.keys()) incoming.set(id, new Map());
  const seenEdgeIds = new Set<string>();
  doc.edges.forEach((edge, i) => {
    const edgeId = edge.id ?? `#${i}`;
    if (edge.id !== undefined) {
      if (seenEdgeIds.has(edge.id)) error({ code: 'duplicate-id', edgeId, field: 'id', message: `two edges share the id "${edge.id}"` });
      seenEdgeIds.add(edge.id);
    }
    const from = nodes.get(edge.from.node);
    const to = nodes.get(edge.to.node);
    if (!from || !to) {
      const missing = !from ? edge.from.node : edge.to.node;
      const present = from ?? to;
      error({
        code: 'dangling-edge',
        nodeId: present?.id,
        edgeId,
        field: !from ? 'from.node' : 'to.node',
        message: `edge points at node "${missing}", which is not in the graph`,
      });
      return;
    }
    const fromDef = registry.get(from.type);
    const toDef = registry.get(to.type);
    if (!fromDef || !toDef) return; // already reported as unknown type
    const out = fromDef.outputs[edge.from.port];
    const inp = toDef.inputs[edge.to.port];
    const ports = incoming.get(to.id) as Map<string, PortRef[]>;
    const existing = ports.get(edge.to.port);
    switch (edgeProblem(out, inp, existing !== undefined)) {
      case 'unknown-output':
        error({
          code: 'unknown-port',
          nodeId: from.id,
          edgeId,
          field: 'from.port',
          message: `${from.type} has no output "${edge.from.port}" (outputs: ${Object.keys(fromDef.outputs).join(', ') || 'none'})`,
        });
        return;
      case 'unknown-input':
        error({ code: 'unknown-port', nodeId: to.id, edgeId, field: 'to.port', message: `${to.type} has no input "${edge.to.port}" (inputs: ${Object.keys(toDef.inputs).join(', ') || 'none'})` });
        return;
      case 'kind-mismatch':
        error({
          code: 'kind-mismatch',
          nodeId: to.id,
          edgeId,
          field: `inputs.${edge.to.port}`,
          message: `cannot connect ${from.id}.${edge.from.port} (${out?.kind}) to ${to.id}.${edge.to.port} (${inp?.kind})`,
        });
        return;
      case 'input-taken':
        error({ code: 'input-taken', nodeId: to.id, edgeId, field: `inputs.${edge.to.port}`, message: `input "${edge.to.port}" already has a connection` });
        return;
      case null:
        break;
    }
    ports.set(edge.to.port, [...(existing ?? []), edge.from]);
  });

  for (const node of nodes.values()) {
    const def = registry.get(node.type);
    if (!def || node.bypass || node.pinnedOutputs) continue;
    for (const [port, spec] of Object.entries(def.inputs)) {
      if (!spec.optional && !spec.multiple && !incoming.get(node.id)?.has(port)) {
        error({ code: 'missing-input', nodeId: node.id, field: `inputs.${port}`, message: `required input "${port}" (${spec.kind}) is not connected` });
      }
    }
  }

  const topo = topology(doc);
  if (topo.cyclic.length > 0) {
    const onCycle = new Set(topo.cyclic);
    const index = doc.edges.findIndex((e) => onCycle.has(e.from.node) && onCycle.has(e.to.node));
    const edge = doc.edges[index];
    error({
      code: 'cycle',
      nodeId: topo.cyclic[0],
      edgeId: edge ? (edge.id ?? `#${index}`) : undefined,
      message: `the graph has a cycle through ${topo.cyclic.join(' → ')}`,
    });
  }

  const ok = !diagnostics.some((d) => d.severity === 'error');
  // A migrated graph runs (and is snapshotted in provenance) as its migrated document.
  const validDoc = migrated ? { ...doc, nodes: doc.nodes.map((n) => nodes.get(n.id) ?? n) } : doc;
  return { diagnostics, graph: ok ? { doc: validDoc, nodes, params, incoming, topo } : undefined };
}

/**
 * A node written for an older version of its type: its params go through the type's `migrate`,
 * and it becomes a node of the current version; without a migration it is refused, with why.
 */
function upgradeNode(node: GraphNode, def: NodeType): { node: GraphNode } | { error: string } {
  const from = node.typeVersion;
  if (from === undefined || from >= def.version) return { node };
  if (!def.migrate) {
    return {
      error: `written for ${node.type} version ${from}; this engine has version ${def.version} and no migration from version ${from}. Check the node's params against the current type, then set "typeVersion": ${def.version}.`,
    };
  }
  try {
    const params = def.migrate(structuredClone(node.params), from);
    return { node: { ...node, params, typeVersion: def.version } };
  } catch (err) {
    return { error: `cannot migrate ${node.type} params from version ${from} to ${def.version}: ${(err as Error).message}` };
  }
}
