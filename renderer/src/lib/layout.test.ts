import { describe, expect, it } from 'vitest';
import { elkLayout, layerCount } from './layout';

const box = (id: string) => ({ id, width: 240, height: 160 });
const chain = (n: number) => ({
  nodes: Array.from({ length: n }, (_, i) => box(`n${i}`)),
  edges: Array.from({ length: n - 1 }, (_, i) => ({ source: `n${i}`, target: `n${i + 1}`, sourceHandle: 'out', targetHandle: 'in' })),
});

function overlaps(pos: Map<string, { x: number; y: number }>): number {
  const r = [...pos.values()];
  let n = 0;
  for (let i = 0; i < r.length; i++)
    for (let j = i + 1; j < r.length; j++) {
      const a = r[i] as { x: number; y: number };
      const b = r[j] as { x: number; y: number };
      if (Math.abs(a.x - b.x) < 240 && Math.abs(a.y - b.y) < 160) n++;
    }
  return n;
}

describe('ELK auto-layout', () => {
  it('lays a short chain out left to right on one row', async () => {
    const g = chain(4);
    const pos = await elkLayout(g.nodes, g.edges);
    const xs = g.nodes.map((n) => pos.get(n.id)?.x ?? NaN);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    expect(new Set(g.nodes.map((n) => pos.get(n.id)?.y)).size).toBe(1);
    expect(overlaps(pos)).toBe(0);
  });

  it('wraps a 16-layer chain into rows that each read left to right, without overlaps', async () => {
    const g = chain(16);
    expect(layerCount(g.nodes, g.edges)).toBe(16);
    const pos = await elkLayout(g.nodes, g.edges, { aspectRatio: 1.6 });
    const ys = [...new Set(g.nodes.map((n) => pos.get(n.id)?.y))];
    expect(ys.length).toBeGreaterThan(1);
    for (let i = 1; i < g.nodes.length; i++) {
      const a = pos.get(`n${i - 1}`) as { x: number; y: number };
      const b = pos.get(`n${i}`) as { x: number; y: number };
      // Next node is to the right on the same row, or starts the next row further down.
      expect(b.x > a.x || b.y > a.y).toBe(true);
    }
    const width = Math.max(...[...pos.values()].map((p) => p.x)) + 240;
    expect(width).toBeLessThan(16 * 240);
    expect(overlaps(pos)).toBe(0);
  });
});
