// Issue 13 (live previews on nodes): a node with a dataset output shows a sparkline of its row count
// over its recent executions beside the count; a node with a chart output shows a thumbnail of it
// that opens the output. Debian Chromium against `forge serve`, both themes, 1600×1000 and 1280×800.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphDocument } from '../engine/graph/document.js';
import { api, chromiumAvailable, CHROMIUM, serveAndOpenApp, shot, type Served } from './harness.js';

/** Texts of 10, 15, … 205 characters: a length filter keeps a known number of them. */
const RECORDS = Array.from({ length: 40 }, (_, i) => ({ id: `r${i}`, text: 'x'.repeat(10 + i * 5) }));
const kept = (minChars: number) => RECORDS.filter((r) => r.text.length > minChars).length;

const graph = (minChars: number): GraphDocument =>
  ({
    format: 'forge-graph',
    version: 3,
    name: 'previews',
    seed: 1,
    nodes: [
      { id: 'src', type: 'source.jsonl', params: { path: 'data/input.jsonl' }, position: { x: 0, y: 0 } },
      { id: 'long', type: 'transform.filter', params: { where: `length(text) > ${minChars}` }, position: { x: 320, y: 0 } },
      { id: 'hist', type: 'view.histogram', params: { column: 'chars', bins: 12, title: 'Text length' }, position: { x: 640, y: 0 } },
      { id: 'rep', type: 'sink.report', params: { title: 'Previews' }, position: { x: 960, y: 0 } },
    ],
    edges: [
      { from: { node: 'src', port: 'out' }, to: { node: 'long', port: 'in' } },
      { from: { node: 'long', port: 'out' }, to: { node: 'hist', port: 'in' } },
      { from: { node: 'hist', port: 'chart' }, to: { node: 'rep', port: 'charts' } },
      { from: { node: 'hist', port: 'metrics' }, to: { node: 'rep', port: 'metrics' } },
    ],
  }) as unknown as GraphDocument;

let app: Awaited<ReturnType<typeof serveAndOpenApp>> | undefined;
let served: Served;
let page: Page;

const zoom = async () => Number((await page.locator('.react-flow__viewport').getAttribute('style'))?.match(/scale\(([\d.]+)\)/)?.[1] ?? 'NaN');

async function loadDoc(doc: GraphDocument): Promise<void> {
  await page.evaluate(`window.__forge.load(${JSON.stringify(doc)})`);
  await expect.poll(() => page.locator('.react-flow__node').count()).toBe(doc.nodes.length);
  await expect.poll(zoom, { timeout: 10_000 }).toBeLessThanOrEqual(1);
}

async function runAll(): Promise<void> {
  const toasts = page.locator('[data-testid="toast"]').filter({ hasText: /Run finished/ });
  const before = await toasts.count();
  await page.getByTestId('run-all').click();
  // The filter holds user code (SQL): the app asks before running a graph it has not seen.
  const trust = page.getByTestId('trust-dialog');
  await Promise.race([trust.waitFor({ timeout: 15_000 }).then(() => page.getByTestId('trust-confirm').click()), toasts.nth(before).waitFor({ timeout: 15_000 })]).catch(() => {});
  await expect.poll(() => toasts.count(), { timeout: 120_000 }).toBeGreaterThan(before);
}

async function setTheme(theme: 'light' | 'dark'): Promise<void> {
  if ((await page.getAttribute('html', 'data-theme')) !== theme) await page.getByTestId('theme-toggle').click();
  await expect.poll(() => page.getAttribute('html', 'data-theme')).toBe(theme);
}

/** A computed style of the first element matching `selector` (the test's tsconfig has no DOM lib). */
const cssOf = (selector: string, prop: string) => page.evaluate<string>(`getComputedStyle(document.querySelector(${JSON.stringify(selector)})).${prop}`);

const node = (id: string) => page.locator(`.react-flow__node[data-id="${id}"]`);

describe.skipIf(!chromiumAvailable())(`live previews on nodes e2e (Chromium at ${CHROMIUM})`, () => {
  beforeAll(async () => {
    app = await serveAndOpenApp((ws) => {
      mkdirSync(join(ws, 'data'));
      writeFileSync(join(ws, 'data', 'input.jsonl'), RECORDS.map((r) => JSON.stringify(r)).join('\n') + '\n');
    });
    ({ served, page } = app);
    expect(app.errors).toEqual([]);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('a dataset node draws its row counts over recent runs beside the latest count', async () => {
    await loadDoc(graph(100));
    await runAll();
    // One execution is not a trend: no sparkline yet, the count is there.
    await expect.poll(() => node('long').getByTestId('node-status').textContent()).toMatch(new RegExp(`^${kept(100)} rows`));
    expect(await node('long').getByTestId('node-sparkline').count()).toBe(0);
    const heightBefore = (await node('long').boundingBox())?.height;

    await loadDoc(graph(50));
    await runAll();
    const spark = node('long').getByTestId('node-sparkline');
    await expect.poll(() => spark.getAttribute('data-points'), { timeout: 20_000 }).toBe(`${kept(100)},${kept(50)}`);
    expect(await node('long').getByTestId('node-status').textContent()).toMatch(new RegExp(`^${kept(50)} rows`));
    expect(await spark.getAttribute('aria-label')).toBe(`rows over the last 2 executions: ${kept(100)}, ${kept(50)}`);
    // The newest count is the higher one here: the line ends at the top right.
    const end = await spark.locator('circle').evaluate((c) => ({ cx: Number(c.getAttribute('cx')), cy: Number(c.getAttribute('cy')) }));
    expect(end.cx).toBeGreaterThan(40);
    expect(end.cy).toBeLessThan(4);
    // The source was served from the cache the second time: a flat line of its 40 rows.
    await expect.poll(() => node('src').getByTestId('node-sparkline').getAttribute('data-points')).toBe('40,40');
    // A node's height does not change when its sparkline appears (it sits beside the status text).
    expect((await node('long').boundingBox())?.height).toBe(heightBefore);
  });

  it('a chart node shows a thumbnail of its chart that opens the output, hidden when zoomed far out', async () => {
    const run = await api<{ executions: { nodeId: string; outputs: { port: string; hash: string }[] }[] }>(served, '/api/runs/latest');
    const chartHash = run.executions.find((e) => e.nodeId === 'hist')?.outputs.find((o) => o.port === 'chart')?.hash;
    expect(chartHash).toMatch(/^sha256:/);
    const thumb = node('hist').getByTestId('node-thumb');
    await expect.poll(() => thumb.getAttribute('data-hash'), { timeout: 20_000 }).toBe(chartHash);
    await expect.poll(() => thumb.locator('img').getAttribute('src'), { timeout: 30_000 }).toMatch(/^data:image\/svg\+xml/);
    const img = await thumb.locator('img').evaluate((i) => ({ w: (i as unknown as { naturalWidth: number }).naturalWidth, complete: (i as unknown as { complete: boolean }).complete }));
    expect(img.complete).toBe(true);
    expect(img.w).toBeGreaterThan(100);
    // The thumbnail is the chart: its SVG carries the chart's title.
    expect(decodeURIComponent((await thumb.locator('img').getAttribute('src')) ?? '')).toContain('Text length');

    for (const size of [
      { width: 1600, height: 1000 },
      { width: 1280, height: 800 },
    ]) {
      await page.setViewportSize(size);
      // The run toasts would cover the nodes in the screenshots.
      while ((await page.locator('[data-testid="toast"] .toast-x').count()) > 0) await page.locator('[data-testid="toast"] .toast-x').first().click();
      await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
      await page.keyboard.press('Shift+1');
      for (const theme of ['light', 'dark'] as const) {
        await setTheme(theme);
        // The thumbnail is drawn again in the theme's chart colours.
        await expect.poll(() => thumb.locator('img').getAttribute('src'), { timeout: 30_000 }).toMatch(/^data:image\/svg\+xml/);
        await page.waitForTimeout(300);
        await shot(page, `node-previews-${size.width}-${theme}`);
      }
    }

    // The report previews the chart it collects; clicking opens the report with its charts inline.
    const repThumb = node('rep').getByTestId('node-thumb');
    await expect.poll(() => repThumb.getAttribute('data-hash'), { timeout: 20_000 }).toBe(chartHash);
    await repThumb.click();
    await expect.poll(() => page.getByTestId('output-node').textContent()).toBe('rep');
    await expect.poll(() => page.getByTestId('report-chart').count(), { timeout: 20_000 }).toBe(1);

    await thumb.click();
    await expect.poll(() => page.getByTestId('output-node').textContent()).toBe('hist');
    expect(await page.getByTestId('output-port-chart').getAttribute('class')).toContain('active');
    await expect.poll(() => page.locator('.output [data-testid="chart"] svg').count(), { timeout: 20_000 }).toBeGreaterThan(0);

    // Zoomed far out, the previews are not drawn (and a big graph does not pay for them).
    const pane = await page.locator('.react-flow__pane').boundingBox();
    if (!pane) throw new Error('no canvas');
    await page.mouse.move(pane.x + pane.width / 2, pane.y + pane.height / 2);
    for (let i = 0; i < 40 && !(await page.locator('.canvas.lod-far').count()); i++) await page.mouse.wheel(0, 200);
    expect(await page.locator('.canvas.lod-far').count()).toBe(1);
    expect(await cssOf('[data-testid="node-thumb"]', 'visibility')).toBe('hidden');
    expect(await cssOf('[data-testid="node-sparkline"]', 'visibility')).toBe('hidden');
    // The shield that spares hit-testing while the view moves is gone once it stops: nodes take clicks.
    await expect.poll(() => page.locator('.move-shield').count()).toBe(0);
    await node('long').click();
    await expect.poll(() => node('long').getAttribute('class')).toContain('selected');
  });

  it('a chain the sink computes in one pass says its datasets were not written, and the preview says how to write them', async () => {
    const doc = {
      ...graph(100),
      name: 'deferred',
      nodes: [
        { id: 'src', type: 'source.jsonl', params: { path: 'data/input.jsonl' }, position: { x: 0, y: 0 } },
        { id: 'long', type: 'transform.filter', params: { where: 'length(text) > 100' }, position: { x: 320, y: 0 } },
        { id: 'out', type: 'sink.write', params: { path: 'out/kept.jsonl', format: 'jsonl' }, position: { x: 640, y: 0 } },
      ],
      edges: [
        { from: { node: 'src', port: 'out' }, to: { node: 'long', port: 'in' } },
        { from: { node: 'long', port: 'out' }, to: { node: 'out', port: 'in' } },
      ],
    } as unknown as GraphDocument;
    // Earlier runs' toasts would make runAll count from a number that shrinks as they expire.
    while ((await page.locator('[data-testid="toast"] .toast-x').count()) > 0) await page.locator('[data-testid="toast"] .toast-x').first().click();
    await loadDoc(doc);
    await runAll();
    for (const id of ['src', 'long']) await expect.poll(() => node(id).getByTestId('node-status').textContent(), { timeout: 20_000 }).toMatch(/^not written \(deferred\)/);
    const run = await api<{ executions: { nodeId: string; outputs: { port: string; hash: string }[] }[] }>(served, '/api/runs/latest');
    const report = run.executions.find((e) => e.nodeId === 'out')?.outputs[0]?.hash ?? '';
    const metrics = await api<{ data: { rows: number } }>(served, `/api/artifacts/${report}/preview`);
    expect(metrics.data.rows).toBe(kept(100));
    const kept100 = run.executions.find((e) => e.nodeId === 'long')?.outputs.find((o) => o.port === 'out')?.hash ?? '';
    const preview = await api<{ records: unknown[]; report?: string }>(served, `/api/artifacts/${kept100}/preview`);
    expect(preview.records).toEqual([]);
    expect(preview.report).toMatch(/deferred dataset.*Run node/);
    while ((await page.locator('[data-testid="toast"] .toast-x').count()) > 0) await page.locator('[data-testid="toast"] .toast-x').first().click();
    for (const size of [
      { width: 1600, height: 1000 },
      { width: 1280, height: 800 },
    ]) {
      await page.setViewportSize(size);
      await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
      await page.keyboard.press('Shift+1');
      await page.waitForTimeout(300);
      // The label fits its node: no status line wider than the node it sits in.
      const fits = await node('long').evaluate((n) => {
        const box = (n as unknown as { getBoundingClientRect(): { right: number } }).getBoundingClientRect();
        const status = (n as unknown as { querySelector(s: string): { getBoundingClientRect(): { right: number } } | null }).querySelector('[data-testid="node-status"]');
        return status ? status.getBoundingClientRect().right <= box.right : false;
      });
      expect(fits).toBe(true);
      await shot(page, `deferred-chain-${size.width}`);
    }
  });
});
