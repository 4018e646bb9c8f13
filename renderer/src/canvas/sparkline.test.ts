import { describe, expect, it } from 'vitest';
import { sparklinePath } from './sparkline';

describe('sparklinePath', () => {
  it('puts the largest count at the top, the smallest at the bottom, oldest at the left', () => {
    const { line, last } = sparklinePath([10, 40, 20], 40, 20, 2);
    expect(line).toBe('M2 18 L20 2 L38 12.7');
    expect(last).toEqual({ x: 38, y: 12.7 });
  });

  it('draws equal counts as a flat line through the middle', () => {
    expect(sparklinePath([5, 5, 5], 30, 16, 2).line).toBe('M2 8 L15 8 L28 8');
  });

  it('refuses an empty series', () => {
    expect(() => sparklinePath([], 30, 16, 2)).toThrow(/no values/);
  });
});
