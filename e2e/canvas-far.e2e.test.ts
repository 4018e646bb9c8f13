// Far-zoom canvas layer (issue 13 item 8): below 20 % zoom the graph is drawn on one <canvas>, React
// Flow's node layer stays mounted but hidden, and nodes still take clicks and drags.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, openApp, serve, shot, type Served } from './harness.js';

const PER_COL = 15;
const N = 400;

/** A pipeline-shaped grid: sources in the first column, each other node fed by one in the column before. */
function grid() {
  const nodes: unknown[] = [];
  const edges: unknown[] = [];
  for (let i = 0; i < N; i++) {
    const col = Math.floor(i / PER_COL);
    const row = i % PER_COL;
    const position = { x: col * 320, y: row * 180 };
    if (col === 0) nodes.push({ id: `n${i}`, type: 'source.jsonl', params: { path: `data/p${row}.jsonl` }, position });
    else {
      nodes.push({ id: `n${i}`, type: 'transform.sample', params: { rows: 10 }, position });
      edges.push({ from: { node: `n${(col - 1) * PER_COL + ((row + 1) % PER_COL)}`, port: 'out' }, to: { node: `n${i}`, port: 'in' } });
    }
  }
  return { format: 'forge-graph', version: 2, name: 'far grid', seed: 0, nodes, edges };
}

let served: Served;
let browser: Browser;
let page: Page;

/** React Flow's [x, y, zoom] and the pane's screen box: where a flow point lands on screen. */
async function screenOf(fx: number, fy: number): Promise<{ x: number; y: number }> {
  const t = (await page.locator('.react-flow__viewport').getAttribute('style')) ?? '';
  const m = t.match(/translate\(([-\d.]+)px, ([-\d.]+)px\) scale\(([\d.]+)\)/);
  const box = await page.locator('.react-flow__pane').boundingBox();
  if (!m || !box) throw new Error(`no viewport transform (${t})`);
  const [tx, ty, k] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return { x: box.x + tx + fx * k, y: box.y + ty + fy * k };
}

/** The canvas layer's pixel (RGBA) under a screen point. */
const pixelAt = (p: { x: number; y: number }) =>
  page.evaluate<number[]>(`(() => {
    const c = document.querySelector('[data-testid="far-canvas"]');
    const r = c.getBoundingClientRect();
    const s = c.width / r.width;
    return Array.from(c.getContext('2d').getImageData(Math.floor((${p.x} - r.x) * s), Math.floor((${p.y} - r.y) * s), 1, 1).data);
  })()`);

const zoom = async () => Number((await page.locator('.react-flow__viewport').getAttribute('style'))?.match(/scale\(([\d.]+)\)/)?.[1] ?? 'NaN');

describe.skipIf(!chromiumAvailable())('far-zoom canvas layer', () => {
  beforeAll(async () => {
    served = await serve((ws) => writeFileSync(join(ws, 'grid.forge.json'), JSON.stringify(grid())));
    ({ browser, page } = await openApp(served, { file: 'grid.forge.json', acceptDialogs: true }));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  it('draws every node on the canvas and hides the DOM layers', async () => {
    await expect.poll(zoom, { timeout: 15_000 }).toBeLessThan(0.2);
    await expect.poll(() => page.locator('.canvas.lod-canvas').count()).toBe(1);
    const layer = page.getByTestId('far-canvas');
    await expect.poll(() => layer.getAttribute('data-drawn-nodes')).toBe(String(N));
    expect(await layer.isVisible()).toBe(true);
    // The nodes stay mounted (zooming in must not mount them all in one frame) but are not painted.
    expect(await page.locator('.react-flow__node').count()).toBe(N);
    expect(await page.evaluate<string>(`getComputedStyle(document.querySelector('.react-flow__nodes')).contentVisibility`)).toBe('hidden');
    expect(await page.locator('.react-flow__edge').count()).toBe(0);
    // A card is drawn where node n20 is, and nothing in the gap between two columns.
    const card = await pixelAt(await screenOf(320 + 120, 5 * 180 + 40));
    const gap = await pixelAt(await screenOf(320 + 280, 5 * 180 + 40));
    expect(card[3]).toBe(255);
    expect(gap[3]).toBe(0);
    await shot(page, 'far-canvas-fit');
  });

  it('selects a node clicked on the canvas and drags it', async () => {
    const n20 = page.getByTestId('node-n20');
    await page.mouse.click(...(Object.values(await screenOf(320 + 120, 5 * 180 + 40)) as [number, number]));
    await expect.poll(() => n20.getAttribute('class')).toContain('selected');
    expect(await page.getByTestId('node-n21').getAttribute('class')).not.toContain('selected');
    // Drag it half a column right: its React Flow wrapper moves (snapped to the 8 px grid; one screen
    // pixel is ~8 flow units at this zoom, hence the tolerance).
    const before = await page.locator('.react-flow__node[data-id="n20"]').getAttribute('style');
    const from = await screenOf(320 + 120, 5 * 180 + 40);
    const to = await screenOf(320 + 120 + 160, 5 * 180 + 40);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(to.x, to.y, { steps: 6 });
    await page.mouse.up();
    await expect.poll(() => page.locator('.react-flow__node[data-id="n20"]').getAttribute('style')).not.toBe(before);
    expect(await page.locator('.react-flow__node[data-id="n20"]').getAttribute('style')).toMatch(/translate\((4[6-9]\d)px, (89\d|90\d)px\)/);
    // A click on empty canvas clears the selection, as on the DOM pane.
    const empty = await screenOf(-150, -150);
    await page.mouse.click(empty.x, empty.y);
    await expect.poll(() => n20.getAttribute('class')).not.toContain('selected');
    await shot(page, 'far-canvas-dragged');
  });

  it('shows the DOM nodes and edges again when zoomed in', async () => {
    await page.keyboard.press('Control+0');
    await expect.poll(zoom, { timeout: 10_000 }).toBe(1);
    await expect.poll(() => page.locator('.canvas.lod-canvas').count()).toBe(0);
    expect(await page.getByTestId('far-canvas').isVisible()).toBe(false);
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBeGreaterThan(0);
    await shot(page, 'far-canvas-zoomed-in');
  });
});
