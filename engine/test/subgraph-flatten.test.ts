import { describe, expect, it } from 'vitest';
import type { GraphDocument, GraphNode } from '../graph/document.js';
import { flattenSubgraphs } from '../graph/subgraph.js';

const doc = (nodes: GraphNode[], edges: GraphDocument['edges'] = []): GraphDocument => ({ format: 'forge-graph', version: 3, seed: 1, nodes, edges });
const n = (id: string, type = 't.pass'): GraphNode => ({ id, type, params: {} });
const edge = (a: string, ap: string, b: string, bp: string) => ({ from: { node: a, port: ap }, to: { node: b, port: bp } });
const links = (d: GraphDocument) => d.edges.map((e) => `${e.from.node}.${e.from.port}->${e.to.node}.${e.to.port}`).sort();

describe('flattenSubgraphs', () => {
  it('leaves a graph without subgraphs untouched', () => {
    const plain = doc([n('a'), n('b')], [edge('a', 'out', 'b', 'in')]);
    expect(flattenSubgraphs(plain).doc).toBe(plain);
  });

  it('flattens nested subgraphs with prefixed ids, fanning one input out to every inner port it maps to', () => {
    const inner: GraphNode = {
      id: 'inner',
      type: 'subgraph',
      params: {},
      subgraph: { nodes: [n('x')], edges: [], inputs: { in: { kind: 'dataset', to: [{ node: 'x', port: 'in' }] } }, outputs: { out: { kind: 'dataset', from: { node: 'x', port: 'out' } } } },
    };
    const outer: GraphNode = {
      id: 'outer',
      type: 'subgraph',
      params: {},
      subgraph: {
        nodes: [n('p'), inner],
        edges: [edge('p', 'out', 'inner', 'in')],
        inputs: {
          in: {
            kind: 'dataset',
            to: [
              { node: 'p', port: 'in' },
              { node: 'inner', port: 'in' },
            ],
          },
        },
        outputs: { out: { kind: 'dataset', from: { node: 'inner', port: 'out' } } },
      },
    };
    const flat = flattenSubgraphs(doc([n('src'), outer, n('sink')], [{ id: 'e1', ...edge('src', 'out', 'outer', 'in') }, edge('outer', 'out', 'sink', 'in')]));
    expect(flat.diagnostics).toEqual([]);
    expect(flat.doc.nodes.map((x) => x.id)).toEqual(['src', 'outer/p', 'outer/inner/x', 'sink']);
    expect(links(flat.doc)).toEqual(['outer/inner/x.out->sink.in', 'outer/p.out->outer/inner/x.in', 'src.out->outer/inner/x.in', 'src.out->outer/p.in'].sort());
    // A fanned-out edge keeps a unique id per copy.
    expect(flat.doc.edges.filter((e) => e.id?.startsWith('e1')).map((e) => e.id)).toEqual(['e1', 'e1~1']);
  });

  it('refuses too deep nesting and too large expansions, naming the subgraph', () => {
    let node: GraphNode = n('leaf');
    for (let i = 0; i < 5; i++) node = { id: `s${i}`, type: 'subgraph', params: {}, subgraph: { nodes: [node], edges: [] } };
    const deep = flattenSubgraphs(doc([node]), { maxDepth: 3 });
    expect(deep.diagnostics).toEqual([expect.objectContaining({ code: 'subgraph-too-deep', nodeId: 's4/s3/s2/s1', message: expect.stringContaining('nested more than 3 levels') })]);

    const big = flattenSubgraphs(doc([{ id: 'g', type: 'subgraph', params: {}, subgraph: { nodes: [n('a'), n('b'), n('c')], edges: [] } }]), { maxNodes: 2 });
    expect(big.diagnostics).toContainEqual(expect.objectContaining({ code: 'graph-too-large' }));
  });

  it('refuses run options on the subgraph node itself, and a subgraph definition on another node type', () => {
    const swept = flattenSubgraphs(doc([{ id: 'g', type: 'subgraph', params: {}, bypass: true, subgraph: { nodes: [n('a')], edges: [] } }]));
    expect(swept.diagnostics).toEqual([expect.objectContaining({ code: 'invalid-subgraph', nodeId: 'g', field: 'bypass' })]);
    const misplaced = flattenSubgraphs(
      doc([
        { ...n('a'), subgraph: { nodes: [], edges: [] } },
        { id: 'g', type: 'subgraph', params: {}, subgraph: { nodes: [], edges: [] } },
      ]),
    );
    expect(misplaced.diagnostics).toEqual([expect.objectContaining({ code: 'invalid-subgraph', nodeId: 'a', message: expect.stringContaining('only nodes of type "subgraph"') })]);
  });
});
