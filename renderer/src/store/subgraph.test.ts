import { describe, expect, it } from 'vitest';
import type { GraphDocument } from '../api/types';
import { info, TYPE_MAP } from './fixtures.test-helpers';
import { createGraphStore } from './graph';
import { aggregateState, componentPath } from './subgraph';

/** src → filter → sample → write, and src → sample_2 (a branch that stays outside any group). */
function pipeline(components: Map<string, GraphDocument> = new Map()) {
  const s = createGraphStore({ types: () => TYPE_MAP, components: () => components });
  const g = () => s.getState();
  const src = g().addNode(info('source.jsonl'), { x: 0, y: 0 });
  const filter = g().addNode(info('transform.filter'), { x: 300, y: 0 });
  const sample = g().addNode(info('transform.sample'), { x: 600, y: 0 });
  const write = g().addNode(info('sink.write'), { x: 900, y: 0 });
  const other = g().addNode(info('transform.sample'), { x: 300, y: 200 });
  for (const [a, b] of [
    [src, filter],
    [filter, sample],
    [sample, write],
    [src, other],
  ] as const) {
    expect(g().connect({ source: a, sourceHandle: 'out', target: b, targetHandle: 'in' }).ok).toBe(true);
  }
  g().setParam(filter, 'where', 'length(text) > 3');
  return { s, g, src, filter, sample, write, other };
}

describe('grouping into a subgraph', () => {
  it('moves the selection inside, with typed ports from the cut edges, and rewires the outer edges', () => {
    const { g, src, filter, sample, write } = pipeline();
    g().select([filter, sample]);
    const id = g().groupSelection();
    expect(id).toBe('subgraph');
    const doc = g().toDocument();
    expect(doc.nodes.map((n) => n.id).sort()).toEqual([src, 'sample_2', 'subgraph', write].sort());
    const sub = doc.nodes.find((n) => n.id === 'subgraph');
    expect(sub?.type).toBe('subgraph');
    expect(sub?.subgraph?.nodes?.map((n) => n.id)).toEqual([filter, sample]);
    expect(sub?.subgraph?.nodes?.[0]?.params).toEqual({ where: 'length(text) > 3' });
    // Positions inside are relative to the group's corner.
    expect(sub?.subgraph?.nodes?.[0]?.position).toEqual({ x: 0, y: 0 });
    expect(sub?.subgraph?.edges).toEqual([{ from: { node: filter, port: 'out' }, to: { node: sample, port: 'in' } }]);
    expect(sub?.subgraph?.inputs).toEqual({ in: { kind: 'dataset', to: [{ node: filter, port: 'in' }] } });
    expect(sub?.subgraph?.outputs).toEqual({ out: { kind: 'dataset', from: { node: sample, port: 'out' } } });
    const outer = doc.edges.map((e) => `${e.from.node}.${e.from.port}->${e.to.node}.${e.to.port}`).sort();
    expect(outer).toEqual([`${src}.out->sample_2.in`, `${src}.out->subgraph.in`, `subgraph.out->${write}.in`].sort());
    // The new node has the ports, so it can be connected like any other.
    expect(g().infoOf({ data: { type: 'subgraph', subgraph: sub?.subgraph } })?.outputs.out?.kind).toBe('dataset');
    expect(g().checkConnection({ source: 'subgraph', sourceHandle: 'out', target: 'sample_2', targetHandle: 'in' })).toMatchObject({ ok: false, code: 'input-taken' });
    // One undo step restores the ungrouped graph.
    g().undo();
    expect(
      g()
        .toDocument()
        .nodes.map((n) => n.id),
    ).toContain(filter);
  });

  it('opens a subgraph to edit, and the edits are part of the document and come back with the breadcrumb', () => {
    const { g, filter, sample } = pipeline();
    g().select([filter, sample]);
    const id = g().groupSelection() as string;
    expect(g().enterSubgraph(id)).toBe(true);
    expect(g().scope).toBe(`${id}/`);
    expect(g().nodes.map((n) => n.id)).toEqual([filter, sample]);
    g().setParam(filter, 'where', 'length(text) > 50');
    // While inside, the document (what is run and saved) already carries the edit.
    const inside = g()
      .toDocument()
      .nodes.find((n) => n.id === id);
    expect(inside?.subgraph?.nodes?.find((n) => n.id === filter)?.params).toEqual({ where: 'length(text) > 50' });
    g().exitSubgraph();
    expect(g().scope).toBe('');
    expect(g().stack).toEqual([]);
    expect(
      g()
        .nodes.find((n) => n.id === id)
        ?.data.subgraph?.nodes?.find((n) => n.id === filter)?.params,
    ).toEqual({ where: 'length(text) > 50' });
    // Leaving with edits is one undo step at the outer level.
    g().undo();
    expect(
      g()
        .nodes.find((n) => n.id === id)
        ?.data.subgraph?.nodes?.find((n) => n.id === filter)?.params,
    ).toEqual({ where: 'length(text) > 3' });
  });

  it('inserts a library component with its ports, and does not open it in place', () => {
    const component: GraphDocument = {
      format: 'forge-graph',
      version: 3,
      seed: 0,
      name: 'clean',
      nodes: [{ id: 'f', type: 'transform.filter', params: {} }],
      edges: [],
      inputs: { docs: { kind: 'dataset', to: [{ node: 'f', port: 'in' }] } },
      outputs: { kept: { kind: 'dataset', from: { node: 'f', port: 'out' } } },
    };
    const { g, src } = pipeline(new Map([['components/clean.forge.json', component]]));
    const id = g().insertComponent('components/clean.forge.json', { x: 0, y: 400 });
    expect(id).toBe('clean');
    expect(g().nodes.find((n) => n.id === id)?.data.label).toBe('clean');
    expect(g().connect({ source: src, sourceHandle: 'out', target: id, targetHandle: 'docs' }).ok).toBe(true);
    expect(g().checkConnection({ source: id, sourceHandle: 'kept', target: 'sample_2', targetHandle: 'in' })).toMatchObject({ ok: false, code: 'input-taken' });
    expect(g().enterSubgraph(id)).toBe(false);
    expect(
      g()
        .toDocument()
        .nodes.find((n) => n.id === id)?.subgraph,
    ).toEqual({ component: 'components/clean.forge.json' });
  });
});

describe('subgraph helpers', () => {
  it('sums inner states: any failure or activity shows, cached only when all were', () => {
    expect(aggregateState(['cached', 'cached'])).toBe('cached');
    expect(aggregateState(['cached', 'done'])).toBe('done');
    expect(aggregateState(['done', 'failed', 'running'])).toBe('failed');
    expect(aggregateState(['cached', 'stale'])).toBe('stale');
    expect(aggregateState(['cached', 'idle'])).toBe('idle');
    expect(aggregateState([])).toBe('idle');
  });

  it('names library files safely', () => {
    expect(componentPath('Clean Docs')).toBe('components/clean-docs.forge.json');
    expect(componentPath('../../etc/passwd')).toBe('components/etc-passwd.forge.json');
  });
});
