import { describe, expect, it } from 'vitest';
import { diffRowKind, olderNewer } from './compare';

const row = (over: Partial<Parameters<typeof diffRowKind>[0]>) => ({
  nodeId: 'n',
  inA: true,
  inB: true,
  paramsChanged: [],
  codeChanged: false,
  outputsChanged: false,
  statusA: 'succeeded',
  statusB: 'succeeded',
  ...over,
});

describe('compare runs', () => {
  it('orders the ticked runs older → newer whatever the tick order', () => {
    const runs = [
      { id: 'r2', startedAt: '2026-01-02T00:00:00Z' },
      { id: 'r1', startedAt: '2026-01-01T00:00:00Z' },
    ];
    expect(olderNewer(['r2', 'r1'], runs)).toEqual(['r1', 'r2']);
    expect(olderNewer(['r1', 'r2'], runs)).toEqual(['r1', 'r2']);
    expect(olderNewer(['r1'], runs)).toBeNull();
  });

  it('tells a node the newer run did not execute apart from one whose output changed', () => {
    expect(diffRowKind(row({ inB: false, statusB: null, outputsChanged: true }))).toBe('not-in-b');
    expect(diffRowKind(row({ inA: false, statusA: null, outputsChanged: true }))).toBe('not-in-a');
    expect(diffRowKind(row({ outputsChanged: true }))).toBe('changed');
    expect(diffRowKind(row({ paramsChanged: [{ field: 'x', a: 1, b: 2 }] }))).toBe('changed');
    expect(diffRowKind(row({}))).toBe('same');
  });
});
