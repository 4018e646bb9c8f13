import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../api/types';
import { runFinishedText, tallyRun } from './runFinished';

const outcome = (nodeId: string, state: string, baseNodeId = nodeId) => ({ nodeId, baseNodeId, variant: {}, nodeType: 't', state, executionId: null, durationMs: 1, outputs: [] });

describe('run finished notice', () => {
  const summary = {
    runId: 'r1',
    status: 'failed',
    mode: 'all',
    durationMs: 10,
    nodes: [outcome('a', 'executed'), outcome('m[x=1]', 'executed', 'm'), outcome('m[x=2]', 'executed', 'm'), outcome('c', 'cached'), outcome('bad', 'failed'), outcome('after', 'skipped')],
  } as unknown as RunSummary;

  it('counts each node once (a sweep counts as its node) and lists what was skipped', () => {
    expect(tallyRun(summary)).toEqual({ ran: 2, cached: 1, failed: ['bad'], skipped: ['after'] });
    const t = runFinishedText(summary);
    expect(t.title).toBe('Run finished with failures');
    expect(t.detail).toBe('2 ran · 1 cached · 1 failed — skipped (downstream of a failure): after');
  });
});
