// Each executed node's memory peak (engine/exec/peak-rss.ts), shown by `forge run` and kept in run outcomes.
import { describe, expect, it } from 'vitest';
import { watchPeakRss } from '../exec/peak-rss.js';

describe('watchPeakRss', () => {
  it('sees memory held for a moment during the watch, and only the watches running then', async () => {
    const before = watchPeakRss();
    const quiet = before();
    const during = watchPeakRss();
    const big = Buffer.alloc(256 << 20, 1);
    // Held across at least one sample, then released before the watch stops.
    await new Promise((r) => setTimeout(r, 600));
    expect(big[big.length - 1]).toBe(1);
    const peak = during();
    expect(peak).toBeGreaterThan(quiet + (200 << 20));
  });
});
