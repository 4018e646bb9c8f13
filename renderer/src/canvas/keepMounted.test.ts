import { describe, expect, it } from 'vitest';
import { FAR_ZOOM, shouldKeepAllMounted, type PlacedNode } from './keepMounted';

// A 10 × 10 grid of 200 × 100 nodes, 300 px apart: the graph spans 0..2900 × 0..2800.
const grid: PlacedNode[] = Array.from({ length: 100 }, (_, i) => ({ x: (i % 10) * 300, y: Math.floor(i / 10) * 300, width: 200, height: 100 }));

describe('shouldKeepAllMounted', () => {
  it('keeps every node when zoomed far out with the whole graph in view', () => {
    // Zoom 0.25: a 1000 × 800 view shows 4000 × 3200 flow pixels from the origin.
    expect(shouldKeepAllMounted(grid, [0, 0, 0.25], 1000, 800, false)).toBe(true);
  });

  it('culls again at or above the far zoom, whatever is in view', () => {
    expect(shouldKeepAllMounted(grid, [0, 0, FAR_ZOOM], 100_000, 100_000, true)).toBe(false);
  });

  it('needs 90 % in view to switch on, and stays on down to 50 %', () => {
    // Panned right by 1000 flow px (250 screen px at 0.25): columns 0-2 are off screen, 70 % in view.
    const panned: [number, number, number] = [-1000 * 0.25 - 1, 0, 0.25];
    expect(shouldKeepAllMounted(grid, panned, 1000, 800, false)).toBe(false);
    expect(shouldKeepAllMounted(grid, panned, 1000, 800, true)).toBe(true);
    // Panned by 2000 flow px: 30 % in view, off even when on.
    expect(shouldKeepAllMounted(grid, [-2000 * 0.25 - 1, 0, 0.25], 1000, 800, true)).toBe(false);
  });

  it('is off for an empty graph', () => {
    expect(shouldKeepAllMounted([], [0, 0, 0.1], 1000, 800, false)).toBe(false);
  });
});
