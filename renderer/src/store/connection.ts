import type { Connection } from '@xyflow/react';
import type { NodeTypeInfo, PortSpec } from '../api/types';
import { edgeProblem } from '../../../engine/contract/edge-rules';
import { pathBetween } from '../../../engine/contract/topology';
import type { SubgraphSpec } from './subgraph';

export type ConnectionCheck = { ok: true } | { ok: false; code: 'self' | 'unknown-node' | 'unknown-type' | 'unknown-port' | 'kind-mismatch' | 'input-taken' | 'cycle' | 'incomplete'; reason: string };

interface Ctx {
  nodes: readonly { id: string; data: { type: string; label?: string; subgraph?: SubgraphSpec } }[];
  edges: readonly { source: string; target: string; sourceHandle?: string | null; targetHandle?: string | null }[];
  types: ReadonlyMap<string, NodeTypeInfo>;
  /** A node's type facts when they are not the catalog's (a subgraph node's ports are its own). */
  infoOf?: (node: Ctx['nodes'][number]) => NodeTypeInfo | undefined;
}

function portName(spec: PortSpec | undefined, port: string): string {
  return spec?.title && spec.title !== port ? `${port} (${spec.title})` : port;
}

/**
 * Whether an edge may be drawn, and if not, why — in words a user can act on. Mirrors the
 * engine's own validation (kind mismatch, input taken, cycle) so refusals happen while dragging.
 */
export function validateConnection(ctx: Ctx, c: Pick<Connection, 'source' | 'target' | 'sourceHandle' | 'targetHandle'>): ConnectionCheck {
  if (!c.source || !c.target || !c.sourceHandle || !c.targetHandle) return { ok: false, code: 'incomplete', reason: 'connect an output port to an input port' };
  if (c.source === c.target) return { ok: false, code: 'self', reason: 'would create a cycle: a node cannot feed itself' };
  const from = ctx.nodes.find((n) => n.id === c.source);
  const to = ctx.nodes.find((n) => n.id === c.target);
  if (!from || !to) return { ok: false, code: 'unknown-node', reason: 'one of the nodes no longer exists' };
  const fromType = ctx.infoOf ? ctx.infoOf(from) : ctx.types.get(from.data.type);
  const toType = ctx.infoOf ? ctx.infoOf(to) : ctx.types.get(to.data.type);
  if (!fromType || !toType) {
    const unknown = !fromType ? from : to;
    return { ok: false, code: 'unknown-type', reason: `node "${unknown.id}" has unknown type ${unknown.data.type}; its ports are not known` };
  }
  const out = fromType.outputs[c.sourceHandle];
  const inp = toType.inputs[c.targetHandle];
  const same = ctx.edges.find((e) => e.target === c.target && e.targetHandle === c.targetHandle && e.source === c.source && e.sourceHandle === c.sourceHandle);
  if (out && inp && out.kind === inp.kind && same) return { ok: false, code: 'input-taken', reason: 'these ports are already connected' };
  const taken = ctx.edges.find((e) => e.target === c.target && e.targetHandle === c.targetHandle);
  // The rule itself is the engine's (engine/contract/edge-rules.ts); the wording is the canvas's.
  switch (edgeProblem(out, inp, taken !== undefined)) {
    case 'unknown-output':
      return { ok: false, code: 'unknown-port', reason: `${fromType.title} has no output "${c.sourceHandle}"` };
    case 'unknown-input':
      return { ok: false, code: 'unknown-port', reason: `${toType.title} has no input "${c.targetHandle}"` };
    case 'kind-mismatch':
      return {
        ok: false,
        code: 'kind-mismatch',
        reason: `kind mismatch: ${c.source}.${portName(out, c.sourceHandle)} outputs ${out?.kind}, but ${c.target}.${portName(inp, c.targetHandle)} expects ${inp?.kind}`,
      };
    case 'input-taken':
      return {
        ok: false,
        code: 'input-taken',
        reason: `input already connected: ${c.target}.${c.targetHandle} is fed by ${taken?.source}.${taken?.sourceHandle ?? ''}; delete that edge first`,
      };
    case null:
      break;
  }
  const back = pathBetween(
    c.target,
    c.source,
    ctx.edges.map((e) => ({ from: e.source, to: e.target })),
  );
  if (back) return { ok: false, code: 'cycle', reason: `would create a cycle: ${[...back, c.target].join(' → ')}` };
  return { ok: true };
}
