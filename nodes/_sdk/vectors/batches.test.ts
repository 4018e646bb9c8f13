import { describe, expect, it } from 'vitest';
import { planLengthBatches } from './encoders.js';

describe('length-bucketed batches', () => {
  const lengths = Array.from({ length: 600 }, (_, i) => 10 + ((i * 37) % 240));

  it('covers every row once, keeps calls under the padded-token budget, and pads at most 10 % of a full batch', () => {
    const batches = planLengthBatches(lengths, 32, 256);
    expect(batches.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
    for (const b of batches) {
      const max = Math.max(...b.map((i) => lengths[i] as number));
      const real = b.reduce((s, i) => s + (lengths[i] as number), 0);
      expect(b.length * max).toBeLessThanOrEqual(32 * 256);
      if (b.length > 8) expect(b.length * max - real).toBeLessThanOrEqual(0.1 * b.length * max);
    }
    const padded = batches.reduce((s, b) => s + b.length * Math.max(...b.map((i) => lengths[i] as number)), 0);
    const real = lengths.reduce((s, l) => s + l, 0);
    expect(padded / real).toBeLessThan(1.1);
  });

  it('short texts still share calls: many rows per batch, not one call each', () => {
    const short = Array.from({ length: 400 }, (_, i) => 12 + (i % 3));
    const batches = planLengthBatches(short, 32, 256);
    expect(batches.length).toBeLessThanOrEqual(3);
  });
});
