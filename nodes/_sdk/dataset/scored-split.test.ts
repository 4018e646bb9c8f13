import { describe, expect, it } from 'vitest';
import { selectByScore } from './scored-split.js';

describe('selectByScore', () => {
  const score = [0.2, NaN, 0.9, 0.5, 0.9, 0.1];

  it('keeps the rows at or above the threshold in position order, never a NaN score', () => {
    expect(selectByScore(score, 0.5, undefined)).toEqual([2, 3, 4]);
    expect(selectByScore(score, undefined, undefined)).toEqual([0, 2, 3, 4, 5]);
  });

  it('cuts to the best target count, ties broken by position', () => {
    expect(selectByScore(score, undefined, 3)).toEqual([2, 4, 3]);
    expect(selectByScore(score, 0.15, 10)).toEqual([0, 2, 3, 4]);
  });
});
