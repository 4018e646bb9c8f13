/**
 * A node's signature is what determines its result from the UI's point of view: type, params,
 * bypass/pins and which outputs feed its inputs. The engine decides reuse from content hashes;
 * the canvas mirrors that before running by comparing the signature a result was produced with
 * against the current one, so it can say *why* a node is stale (and un-stale it on undo).
 */
export interface NodeSignature {
  type: string;
  params: Record<string, string>;
  inputs: string;
  bypass: boolean;
  pinned: string;
  /** Sweep spec and any other result-affecting fields, canonical JSON. */
  sweep?: string;
}

export interface SigNode {
  id: string;
  data: { type: string; params: Record<string, unknown>; bypass?: boolean; pinnedOutputs?: Record<string, string>; sweep?: unknown };
}

export interface SigEdge {
  source: string;
  target: string;
  sourceHandle?: string | null;
  targetHandle?: string | null;
}

/** JSON with sorted keys, so {a,b} and {b,a} compare equal. */
export function stableJson(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
    .join(',')}}`;
}

export function incomingByTarget(edges: readonly SigEdge[]): Map<string, SigEdge[]> {
  const m = new Map<string, SigEdge[]>();
  for (const e of edges) {
    const l = m.get(e.target) ?? [];
    l.push(e);
    m.set(e.target, l);
  }
  return m;
}

export function signatureOf(node: SigNode, incoming: readonly SigEdge[] = []): NodeSignature {
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(node.data.params)) if (v !== undefined) params[k] = stableJson(v);
  return {
    type: node.data.type,
    params,
    inputs: incoming
      .map((e) => `${e.targetHandle ?? ''}<-${e.source}.${e.sourceHandle ?? ''}`)
      .sort()
      .join('|'),
    bypass: node.data.bypass === true,
    pinned: stableJson(node.data.pinnedOutputs ?? {}),
    ...(node.data.sweep ? { sweep: stableJson(node.data.sweep) } : {}),
  };
}

/** Why `now` differs from `then`, in words; null when they are the same. */
export function describeChange(then: NodeSignature, now: NodeSignature): string | null {
  if (then.type !== now.type) return 'node type changed';
  const keys = [...new Set([...Object.keys(then.params), ...Object.keys(now.params)])].sort();
  const changed = keys.filter((k) => then.params[k] !== now.params[k]);
  if (changed.length > 0) return `param${changed.length > 1 ? 's' : ''} changed: ${changed.join(', ')}`;
  if (then.inputs !== now.inputs) return 'inputs reconnected';
  if ((then.sweep ?? '') !== (now.sweep ?? '')) return now.sweep ? 'sweep changed' : 'sweep removed';
  if (then.bypass !== now.bypass) return now.bypass ? 'bypass turned on' : 'bypass turned off';
  if (then.pinned !== now.pinned) return now.pinned === '{}' ? 'outputs unpinned' : 'outputs pinned';
  return null;
}

/** What a node's current result was made from (see NodeStatus). */
export interface ResultInfo {
  signature?: NodeSignature;
  /** input port → the artifact hashes it consumed (several on a fan-in port). */
  consumed?: Record<string, string[]>;
  outputs?: { port: string; hash: string }[];
}

/** Parses NodeSignature.inputs back into (input port, source node, source port) triples. */
export function parseInputs(inputs: string): { port: string; node: string; sourcePort: string }[] {
  if (!inputs) return [];
  return inputs.split('|').map((part) => {
    const [port = '', from = ''] = part.split('<-');
    const dot = from.lastIndexOf('.');
    return { port, node: from.slice(0, dot), sourcePort: from.slice(dot + 1) };
  });
}

/**
 * Which nodes are stale and why: a node whose result was produced with a different signature; every
 * node downstream of a stale node (its input will change); and a node whose upstream has since
 * produced a different result than the one it consumed (e.g. after "run this node" upstream).
 * Nodes without a result are never stale; they simply have not run.
 */
export function computeStale(nodes: readonly SigNode[], edges: readonly SigEdge[], result: (id: string) => ResultInfo | undefined): Record<string, string> {
  const incoming = incomingByTarget(edges);
  const ids = new Set(nodes.map((n) => n.id));
  const indeg = new Map<string, number>();
  const children = new Map<string, string[]>();
  for (const n of nodes) indeg.set(n.id, 0);
  for (const e of edges) {
    if (!ids.has(e.source) || !ids.has(e.target)) continue;
    indeg.set(e.target, (indeg.get(e.target) ?? 0) + 1);
    const c = children.get(e.source) ?? [];
    c.push(e.target);
    children.set(e.source, c);
  }
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const queue = nodes.filter((n) => indeg.get(n.id) === 0).map((n) => n.id);
  const stale: Record<string, string> = {};
  const changedUpstream = new Map<string, string>();
  while (queue.length > 0) {
    const id = queue.shift() as string;
    const node = byId.get(id) as SigNode;
    const r = result(id);
    let reason: string | null = null;
    if (r?.signature) {
      const inc = incoming.get(id) ?? [];
      reason = describeChange(r.signature, signatureOf(node, inc));
      if (!reason && changedUpstream.has(id)) reason = `upstream "${changedUpstream.get(id)}" changed`;
      if (!reason && r.consumed) {
        for (const e of inc) {
          const had = r.consumed[e.targetHandle ?? ''];
          const now = result(e.source)?.outputs?.find((o) => o.port === e.sourceHandle)?.hash;
          if (had && had.length > 0 && now && !had.includes(now)) {
            reason = `upstream "${e.source}" has a newer result`;
            break;
          }
        }
      }
      if (reason) stale[id] = reason;
    }
    // A changed node, or one downstream of a change, propagates: its output will be different.
    const propagates = reason !== null || changedUpstream.has(id);
    const origin = reason !== null && !changedUpstream.has(id) ? id : (changedUpstream.get(id) ?? id);
    for (const c of children.get(id) ?? []) {
      if (propagates && !changedUpstream.has(c)) changedUpstream.set(c, origin);
      const d = (indeg.get(c) ?? 0) - 1;
      indeg.set(c, d);
      if (d === 0) queue.push(c);
    }
  }
  return stale;
}
