import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { edgeProblem } from '../../../engine/contract/edge-rules';
import { pathBetween, topologyOf } from '../../../engine/contract/topology';
import { validateGraph } from '../../../engine/graph/validate';
import { NodeRegistry, type NodeTypeInfo } from '../../../engine/registry';
import { defineNode } from '../../../engine/sdk/types';
import { validateConnection } from './connection';

const node = (type: string, inputs: Record<string, { kind: 'dataset' | 'metrics'; multiple?: boolean }>, outputs: Record<string, { kind: 'dataset' | 'metrics' }>) =>
  defineNode({ type, version: 1, category: 'Test', title: type, description: type, inputs, outputs, params: z.object({}), deterministic: true, async run() {}, module: import.meta.url });

const types = [
  node('src', {}, { out: { kind: 'dataset' } }),
  node('one', { in: { kind: 'dataset' } }, { out: { kind: 'dataset' } }),
  node('many', { in: { kind: 'dataset', multiple: true } }, {}),
  node('metric', { in: { kind: 'metrics' } }, {}),
];
const registry = new NodeRegistry(types, import.meta.url);
const infos = new Map<string, NodeTypeInfo>(types.map((t) => [t.type, { ...registry.info(t.type) }]));

describe('the engine and the canvas share one edge rule', () => {
  it('edgeProblem decides unknown ports, kinds and fan-in', () => {
    expect(edgeProblem(undefined, { kind: 'dataset' }, false)).toBe('unknown-output');
    expect(edgeProblem({ kind: 'dataset' }, undefined, false)).toBe('unknown-input');
    expect(edgeProblem({ kind: 'dataset' }, { kind: 'metrics' }, false)).toBe('kind-mismatch');
    expect(edgeProblem({ kind: 'dataset' }, { kind: 'dataset' }, true)).toBe('input-taken');
    expect(edgeProblem({ kind: 'dataset' }, { kind: 'dataset', multiple: true }, true)).toBeNull();
  });

  // Every (target type, already fed?) case, drawn on the canvas and validated by the engine.
  for (const target of ['one', 'many', 'metric']) {
    for (const fed of [false, true]) {
      it(`agree on an edge into ${target}${fed ? ' whose input is already fed' : ''}`, () => {
        const nodes = [
          { id: 'a', type: 'src' },
          { id: 'b', type: 'src' },
          { id: 't', type: target },
        ];
        const existing = fed ? [{ from: { node: 'b', port: 'out' }, to: { node: 't', port: 'in' } }] : [];
        const canvas = validateConnection(
          {
            nodes: nodes.map((n) => ({ id: n.id, data: { type: n.type } })),
            edges: existing.map((e) => ({ source: e.from.node, sourceHandle: 'out', target: 't', targetHandle: 'in' })),
            types: infos,
          },
          { source: 'a', sourceHandle: 'out', target: 't', targetHandle: 'in' },
        );
        const engine = validateGraph(
          { format: 'forge-graph', version: 2, seed: 0, nodes: nodes.map((n) => ({ ...n, params: {} })), edges: [...existing, { from: { node: 'a', port: 'out' }, to: { node: 't', port: 'in' } }] },
          registry,
        );
        const newEdge = `#${existing.length}`;
        const engineCodes = engine.diagnostics.filter((d) => d.severity === 'error' && d.edgeId === newEdge).map((d) => d.code);
        expect(canvas.ok ? [] : [canvas.code]).toEqual(engineCodes);
      });
    }
  }

  it('topology orders by document order, finds cycles, and explains them with a path', () => {
    const t = topologyOf(
      ['c', 'a', 'b'],
      [
        { from: 'a', to: 'b' },
        { from: 'c', to: 'b' },
      ],
    );
    expect(t.order).toEqual(['c', 'a', 'b']);
    expect(
      topologyOf(
        ['x', 'y'],
        [
          { from: 'x', to: 'y' },
          { from: 'y', to: 'x' },
        ],
      ).cyclic,
    ).toEqual(['x', 'y']);
    expect(
      pathBetween('a', 'd', [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'd' },
        { from: 'a', to: 'c' },
      ]),
    ).toEqual(['a', 'b', 'd']);
    expect(pathBetween('d', 'a', [{ from: 'a', to: 'd' }])).toBeNull();
  });
});
