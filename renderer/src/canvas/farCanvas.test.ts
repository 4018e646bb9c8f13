import { describe, expect, it } from 'vitest';
import { covers, drawRegion, nodeAt, nodesInView, sceneBounds, viewRect, type FarNode } from './farCanvas';

const node = (id: string, x: number, y: number): FarNode => ({ id, x, y, width: 240, height: 120, color: 'red', state: 'idle', selected: false, highlighted: false });

describe('far canvas geometry', () => {
  it('hit-tests the topmost node under a point, and nothing between nodes', () => {
    const nodes = [node('a', 0, 0), node('b', 100, 50), node('c', 400, 0)];
    expect(nodeAt(nodes, 120, 60)?.id).toBe('b');
    expect(nodeAt(nodes, 10, 10)?.id).toBe('a');
    expect(nodeAt(nodes, 300, 10)).toBeNull();
  });

  it('keeps only the nodes a view shows', () => {
    const nodes = [node('a', 0, 0), node('b', 1000, 0), node('c', 5000, 0)];
    // Zoom 0.5 from the origin: a 800 px view shows flow x 0..1600.
    expect(nodesInView(nodes, [0, 0, 0.5], 800, 400).map((n) => n.id)).toEqual(['a', 'b']);
    expect(viewRect([-100, -50, 0.5], 800, 400)).toEqual({ x0: 200, y0: 100, x1: 1800, y1: 900 });
  });

  it('draws the whole graph at a fit view, so a pan inside it never redraws', () => {
    const bounds = sceneBounds({ nodes: [node('a', 0, 0), node('b', 3000, 1000)], edgePath: '', selectedEdgePath: '' });
    const view = { x0: -500, y0: -500, x1: 3800, y1: 1700 };
    const drawn = drawRegion(bounds, view);
    expect(drawn).toEqual(bounds);
    expect(covers(drawn, bounds, { x0: 100, y0: 100, x1: 4400, y1: 2300 })).toBe(true);
  });

  it('redraws once a pan leaves the margin around a zoomed-in view', () => {
    const bounds = { x0: 0, y0: 0, x1: 100_000, y1: 100_000 };
    const view = { x0: 1000, y0: 1000, x1: 2000, y1: 2000 };
    const drawn = drawRegion(bounds, view);
    expect(drawn).toEqual({ x0: 500, y0: 500, x1: 2500, y1: 2500 });
    expect(covers(drawn, bounds, { x0: 1400, y0: 1000, x1: 2400, y1: 2000 })).toBe(true);
    expect(covers(drawn, bounds, { x0: 1600, y0: 1000, x1: 2600, y1: 2000 })).toBe(false);
    // A view beside the graph shows nothing of it: nothing to redraw.
    expect(covers(drawn, bounds, { x0: -5000, y0: 0, x1: -4000, y1: 1000 })).toBe(true);
  });
});
