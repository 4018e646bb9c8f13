import { beforeEach, describe, expect, it } from 'vitest';
import type { NodeOutcome, RunEvent } from '../api/types';
import { displayState, useRun } from './run';

const outcome = (nodeId: string, state: NodeOutcome['state'], extra: Partial<NodeOutcome> = {}): NodeOutcome => ({
  nodeId,
  baseNodeId: nodeId,
  variant: {},
  nodeType: 't',
  state,
  executionId: `x-${nodeId}`,
  durationMs: 12,
  outputs: state === 'failed' ? [] : [{ port: 'out', hash: `sha256:${nodeId}`, kind: 'dataset', rows: 3, bytes: 10 }],
  ...extra,
});

describe('run store: live node states from events', () => {
  beforeEach(() => useRun.setState({ status: {}, stale: {}, active: null, log: [] }));

  it('walks queued → running → done/cached/failed and clears the stale verdict of each node that gets a fresh result', () => {
    useRun.setState({ stale: { a: 'param changed: x', c: 'param changed: y', z: 'param changed: z' } });
    const events: RunEvent[] = [
      { type: 'run.started', runId: 'R', mode: 'all', target: null, nodes: ['a', 'b', 'c'], forced: [], instances: { a: 'a', b: 'b', c: 'c' } },
      { type: 'node.cached', runId: 'R', nodeId: 'a', outcome: outcome('a', 'cached') },
      { type: 'node.started', runId: 'R', nodeId: 'b', executionId: 'x-b' },
      { type: 'node.progress', runId: 'R', nodeId: 'b', done: 5, total: 10 },
    ];
    for (const e of events) useRun.getState().handle(e);
    let s = useRun.getState().status;
    expect(s.a?.state).toBe('cached');
    expect(useRun.getState().stale).toEqual({ c: 'param changed: y', z: 'param changed: z' });
    expect(s.b?.state).toBe('running');
    expect(s.b?.progress).toEqual({ done: 5, total: 10, message: undefined });
    expect(s.c?.state).toBe('queued');
    expect(useRun.getState().active?.runId).toBe('R');

    useRun.getState().handle({ type: 'node.finished', runId: 'R', nodeId: 'b', outcome: outcome('b', 'executed') });
    useRun.getState().handle({ type: 'node.failed', runId: 'R', nodeId: 'c', outcome: outcome('c', 'failed', { error: 'boom', location: { field: 'params.where' } }) });
    useRun.getState().handle({ type: 'run.finished', runId: 'R', summary: { runId: 'R', status: 'failed', mode: 'all', durationMs: 40, nodes: [], failed: ['c'], skipped: [] } });
    s = useRun.getState().status;
    expect(s.b?.state).toBe('done');
    expect(s.b?.outputs?.[0]?.rows).toBe(3);
    expect(s.c?.state).toBe('failed');
    expect(s.c?.error).toBe('boom');
    expect(s.c?.errorField).toBe('params.where');
    expect(useRun.getState().stale).toEqual({ z: 'param changed: z' });
    expect(useRun.getState().active).toBeNull();
    expect(useRun.getState().log.some((l) => l.level === 'error' && l.message.includes('boom'))).toBe(true);
  });

  it('nodes still queued when a run ends (cancelled) do not stay queued', () => {
    useRun.getState().handle({ type: 'run.started', runId: 'R2', mode: 'all', target: null, nodes: ['a', 'b'], forced: [], instances: { a: 'a', b: 'b' } });
    useRun.getState().handle({ type: 'run.finished', runId: 'R2', summary: { runId: 'R2', status: 'cancelled', mode: 'all', durationMs: 1, nodes: [], failed: [], skipped: [] } });
    expect(useRun.getState().status.a?.state).toBe('cancelled');
  });

  it('a swept node aggregates its variants: running until all finish, then done, with per-variant outputs', () => {
    const inst = { 'mix[share=0.1]': 'mix', 'mix[share=0.5]': 'mix' };
    useRun.getState().handle({ type: 'run.started', runId: 'S', mode: 'all', target: null, nodes: Object.keys(inst), forced: [], instances: inst });
    expect(useRun.getState().status.mix?.state).toBe('queued');
    expect(useRun.getState().active?.nodes).toEqual(['mix']);
    const v = (id: string, share: number) => ({ ...outcome(id, 'executed'), baseNodeId: 'mix', variant: { 'mix.share': share } });
    useRun.getState().handle({ type: 'node.started', runId: 'S', nodeId: 'mix[share=0.1]', executionId: 'e1' });
    useRun.getState().handle({ type: 'node.finished', runId: 'S', nodeId: 'mix[share=0.1]', outcome: v('mix[share=0.1]', 0.1) });
    let st = useRun.getState().status.mix;
    expect(st?.state).toBe('running');
    expect(st?.progress).toMatchObject({ done: 1, total: 2 });
    useRun.getState().handle({ type: 'node.finished', runId: 'S', nodeId: 'mix[share=0.5]', outcome: v('mix[share=0.5]', 0.5) });
    st = useRun.getState().status.mix;
    expect(st?.state).toBe('done');
    expect(Object.keys(st?.variants ?? {})).toEqual(['mix[share=0.1]', 'mix[share=0.5]']);
    expect(st?.variants?.['mix[share=0.5]']?.variant).toEqual({ 'mix.share': 0.5 });
  });

  it('live states win over staleness; staleness wins over the previous result', () => {
    expect(displayState({ state: 'done' }, 'param changed: x')).toBe('stale');
    expect(displayState({ state: 'running' }, 'param changed: x')).toBe('running');
    expect(displayState(undefined, undefined)).toBe('idle');
  });
});
