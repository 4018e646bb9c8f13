import { describe, expect, it } from 'vitest';
import { notesOf } from './metricsNotes';

describe('notes a node shows from its metrics', () => {
  it('says which threshold was chosen from data and why', () => {
    const n = notesOf({ threshold: 0.124712, threshold_source: 'validation', threshold_reason: 'highest threshold with recall ≥ 0.9 on 120 validation rows' });
    expect(n.threshold).toBe('threshold 0.1247 from validation rows: highest threshold with recall ≥ 0.9 on 120 validation rows');
    expect(notesOf({ threshold: 0.5, threshold_source: 'labels', threshold_reason: 'lowest threshold with precision ≥ 0.8' }).threshold).toMatch(/^threshold 0.5 from labelled rows: lowest/);
  });

  it('stays quiet about a fixed threshold and passes a warning through', () => {
    const n = notesOf({ threshold: 0.5, threshold_source: 'fixed', threshold_reason: 'fixed threshold (params.threshold)', warning: 'disagree' });
    expect(n).toEqual({ threshold: null, warning: 'disagree' });
  });
});
