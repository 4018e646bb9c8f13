import { describe, expect, it } from 'vitest';
import { computeStale, incomingByTarget, signatureOf, type ResultInfo, type SigEdge, type SigNode } from './signature';

function graph() {
  const nodes: SigNode[] = [
    { id: 'src', data: { type: 'source.jsonl', params: { path: 'a.jsonl' } } },
    { id: 'f', data: { type: 'transform.filter', params: { where: 'length(text) > 10' } } },
    { id: 's', data: { type: 'transform.sample', params: { rows: 5 } } },
    { id: 'w', data: { type: 'sink.write', params: { path: 'out.jsonl' } } },
    { id: 'other', data: { type: 'source.jsonl', params: { path: 'b.jsonl' } } },
  ];
  const edges: SigEdge[] = [
    { source: 'src', sourceHandle: 'out', target: 'f', targetHandle: 'in' },
    { source: 'f', sourceHandle: 'out', target: 's', targetHandle: 'in' },
    { source: 's', sourceHandle: 'out', target: 'w', targetHandle: 'in' },
  ];
  return { nodes, edges };
}

/** Results as if every node had just run: each output hash is `<node>#<run>`, each input consumed its parent's. */
function ranWith(nodes: SigNode[], edges: SigEdge[], run = 1): Map<string, ResultInfo> {
  const inc = incomingByTarget(edges);
  return new Map(
    nodes.map((n) => [
      n.id,
      {
        signature: signatureOf(n, inc.get(n.id) ?? []),
        outputs: [{ port: 'out', hash: `${n.id}#${run}` }],
        consumed: consumedOf(inc.get(n.id) ?? [], run),
      },
    ]),
  );
}

function consumedOf(incoming: readonly SigEdge[], run: number): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of incoming) (out[e.targetHandle ?? ''] ??= []).push(`${e.source}#${run}`);
  return out;
}

const withParam = (nodes: SigNode[], id: string, key: string, value: unknown): SigNode[] =>
  nodes.map((n) => (n.id === id ? { ...n, data: { ...n.data, params: { ...n.data.params, [key]: value } } } : n));

describe('stale propagation', () => {
  it('nothing is stale right after a run', () => {
    const { nodes, edges } = graph();
    const ran = ranWith(nodes, edges);
    expect(computeStale(nodes, edges, (id) => ran.get(id))).toEqual({});
  });

  it('a param change marks the node and every descendant, with the reason', () => {
    const { nodes, edges } = graph();
    const ran = ranWith(nodes, edges);
    const edited = withParam(nodes, 'f', 'where', 'length(text) > 99');
    expect(computeStale(edited, edges, (id) => ran.get(id))).toEqual({
      f: 'param changed: where',
      s: 'upstream "f" changed',
      w: 'upstream "f" changed',
    });
  });

  it('changing a param back (undo) clears staleness: it is decided by content, not by edit history', () => {
    const { nodes, edges } = graph();
    const ran = ranWith(nodes, edges);
    const edited = withParam(nodes, 'f', 'where', 'x');
    const back = withParam(edited, 'f', 'where', 'length(text) > 10');
    expect(computeStale(back, edges, (id) => ran.get(id))).toEqual({});
  });

  it('key order in params does not matter', () => {
    const { nodes, edges } = graph();
    const ran = ranWith(nodes, edges);
    const reordered = nodes.map((n) => (n.id === 'src' ? { ...n, data: { ...n.data, params: { zzz: undefined, path: 'a.jsonl' } } } : n));
    expect(computeStale(reordered, edges, (id) => ran.get(id))).toEqual({});
  });

  it('rewiring an input marks the target and downstream; bypass is a change too', () => {
    const { nodes, edges } = graph();
    const ran = ranWith(nodes, edges);
    const rewired = edges.map((e) => (e.target === 's' ? { ...e, source: 'other' } : e));
    expect(computeStale(nodes, rewired, (id) => ran.get(id))).toEqual({ s: 'inputs reconnected', w: 'upstream "s" changed' });
    const bypassed = nodes.map((n) => (n.id === 's' ? { ...n, data: { ...n.data, bypass: true } } : n));
    expect(computeStale(bypassed, edges, (id) => ran.get(id))).toMatchObject({ s: 'bypass turned on', w: 'upstream "s" changed' });
  });

  it('an upstream node re-run on its own (new output) makes its descendants stale, not itself', () => {
    const { nodes, edges } = graph();
    const ran = ranWith(nodes, edges);
    const edited = withParam(nodes, 's', 'rows', 4);
    expect(computeStale(edited, edges, (id) => ran.get(id))).toEqual({ s: 'param changed: rows', w: 'upstream "s" changed' });
    // "Run this node" on s: it now has a result for rows=4 with a new output hash; w has not re-run.
    const rerun = ranWith(edited, edges, 2).get('s') as ResultInfo;
    ran.set('s', { ...rerun, consumed: { in: ['f#1'] } });
    expect(computeStale(edited, edges, (id) => ran.get(id))).toEqual({ w: 'upstream "s" has a newer result' });
  });

  it('nodes that never produced a result are not stale, but their ran descendants are', () => {
    const { nodes, edges } = graph();
    const ran = ranWith(nodes, edges);
    ran.delete('f');
    const edited = withParam(nodes, 'src', 'path', 'c.jsonl');
    expect(computeStale(edited, edges, (id) => ran.get(id))).toEqual({
      src: 'param changed: path',
      s: 'upstream "src" changed',
      w: 'upstream "src" changed',
    });
  });

  it('a fan-in port fed by several nodes is not stale after a run, but is when one feeder re-runs', () => {
    const nodes: SigNode[] = [
      { id: 'a', data: { type: 'source.jsonl', params: { path: 'a.jsonl' } } },
      { id: 'b', data: { type: 'source.jsonl', params: { path: 'b.jsonl' } } },
      { id: 'r', data: { type: 'sink.report', params: {} } },
    ];
    const edges: SigEdge[] = [
      { source: 'a', sourceHandle: 'out', target: 'r', targetHandle: 'metrics' },
      { source: 'b', sourceHandle: 'out', target: 'r', targetHandle: 'metrics' },
    ];
    const ran = ranWith(nodes, edges);
    expect(ran.get('r')?.consumed).toEqual({ metrics: ['a#1', 'b#1'] });
    expect(computeStale(nodes, edges, (id) => ran.get(id))).toEqual({});
    ran.set('a', { ...(ran.get('a') as ResultInfo), outputs: [{ port: 'out', hash: 'a#2' }] });
    expect(computeStale(nodes, edges, (id) => ran.get(id))).toEqual({ r: 'upstream "a" has a newer result' });
  });
});
