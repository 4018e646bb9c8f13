import { describe, expect, it } from 'vitest';
import type { GraphPlan, PlannedNode } from '../api/types';
import { staleFromPlan, type ShownResult } from './stale';

const planned = (nodeId: string, action: PlannedNode['action'], extra: Partial<PlannedNode> = {}): PlannedNode => ({
  nodeId,
  baseNodeId: nodeId,
  nodeType: 't',
  variant: {},
  action,
  cacheKey: action === 'cached' ? `sha256:${nodeId}` : null,
  reasons: [],
  ...extra,
});
const plan = (...nodes: PlannedNode[]): GraphPlan => ({ mode: 'all', target: null, seed: 1, nodes });
const shownAll = (ids: string[], state = 'done'): ((id: string) => ShownResult | undefined) => {
  const m = new Map(ids.map((id) => [id, { state, outputs: [{ port: 'out', hash: `h-${id}` }] }]));
  return (id) => m.get(id);
};

describe('stale badges from the engine plan', () => {
  it('nothing is stale when the engine would reuse exactly the results shown', () => {
    const p = plan(planned('a', 'cached', { outputs: [{ port: 'out', hash: 'h-a' }] }), planned('b', 'cached', { outputs: [{ port: 'out', hash: 'h-b' }] }));
    expect(staleFromPlan(p, shownAll(['a', 'b']))).toEqual({});
  });

  it('a node the engine will run is stale with the engine’s reasons: seed, input file, upstream', () => {
    const p = plan(
      planned('src', 'run', { reasons: ['graph seed changed (1 → 2)', 'input file changed: data/a.jsonl'] }),
      planned('f', 'run', { reasons: ['graph seed changed (1 → 2)', 'upstream "src" will run'] }),
      planned('other', 'cached', { outputs: [{ port: 'out', hash: 'h-other' }] }),
    );
    expect(staleFromPlan(p, shownAll(['src', 'f', 'other']))).toEqual({
      src: 'graph seed changed (1 → 2); input file changed: data/a.jsonl',
      f: 'graph seed changed (1 → 2); upstream "src" will run',
    });
  });

  it('nodes that never produced a result are not stale, even if they will run', () => {
    const p = plan(planned('a', 'run', { reasons: ['never run in this workspace'] }));
    expect(staleFromPlan(p, () => undefined)).toEqual({});
    expect(staleFromPlan(p, () => ({ state: 'idle' }))).toEqual({});
  });

  it('a cached result other than the one shown (after an undo) is stale; the same one is not', () => {
    const p = plan(planned('s', 'cached', { outputs: [{ port: 'out', hash: 'h-old' }] }));
    expect(staleFromPlan(p, shownAll(['s']))).toEqual({ s: 'another cached result matches the current graph' });
    expect(staleFromPlan(p, () => ({ state: 'done', outputs: [{ port: 'out', hash: 'h-old' }] }))).toEqual({});
  });

  it('a swept node is stale when any variant will run, naming the variant', () => {
    const p = plan(planned('mix[share=0.1]', 'cached', { baseNodeId: 'mix' }), planned('mix[share=0.5]', 'run', { baseNodeId: 'mix', reasons: ['param changed: share'] }));
    expect(staleFromPlan(p, shownAll(['mix']))).toEqual({ mix: 'mix[share=0.5]: param changed: share' });
  });
});
