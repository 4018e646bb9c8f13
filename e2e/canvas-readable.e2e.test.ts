// Issue 13 (readable canvas, roomy outputs, failure policy, run-finished notice, laptop size):
// Debian Chromium against `forge serve`, the example graph loaded as a user would see it.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphDocument } from '../engine/graph/document.js';
import { nextFrames } from './app-checks.js';
import { chromiumAvailable, CHROMIUM, openApp, REPO, serve, shot, type Served } from './harness.js';

const EXAMPLE = JSON.parse(readFileSync(join(REPO, 'resources', 'examples', 'hephaestus-forge.forge.json'), 'utf8')) as GraphDocument;

/** A small graph with one failing branch and one independent branch. */
const BRANCHY: GraphDocument = {
  format: 'forge-graph',
  version: EXAMPLE.version,
  name: 'branches',
  seed: 1,
  nodes: [
    { id: 'src', type: 'source.jsonl', params: { path: 'data/input.jsonl' }, position: { x: 0, y: 0 } },
    { id: 'bad', type: 'transform.sql', params: { query: 'SELECT no_such_column FROM a' }, position: { x: 320, y: -120 } },
    { id: 'after_bad', type: 'transform.sample', params: { rows: 2 }, position: { x: 640, y: -120 } },
    { id: 'good', type: 'transform.sample', params: { rows: 3 }, position: { x: 320, y: 160 } },
  ],
  edges: [
    { from: { node: 'src', port: 'out' }, to: { node: 'bad', port: 'a' } },
    { from: { node: 'bad', port: 'out' }, to: { node: 'after_bad', port: 'in' } },
    { from: { node: 'src', port: 'out' }, to: { node: 'good', port: 'in' } },
  ],
} as unknown as GraphDocument;

let served: Served;
let browser: Browser;
let context: BrowserContext;
let page: Page;

const zoom = async () => Number((await page.locator('.react-flow__viewport').getAttribute('style'))?.match(/scale\(([\d.]+)\)/)?.[1] ?? 'NaN');

/** A computed style of the first element matching `selector` (the test's tsconfig has no DOM lib). */
const cssOf = (selector: string, prop: string) => page.evaluate<string>(`getComputedStyle(document.querySelector(${JSON.stringify(selector)})).${prop}`);
/**
 * Far-zoom titles with a word split over two lines anywhere but at a soft hyphen (a hyphenation
 * point, drawn as "-"): Chromium on Linux has no hyphenation dictionary and broke words mid-letter.
 */
const titlesBrokenMidWord = () =>
  page.evaluate<string[]>(`[...document.querySelectorAll('.fnode-far-title')].map((e) => {
    const text = e.firstChild;
    if (!text || text.nodeType !== 3) return null;
    const r = document.createRange();
    // A character's last box: a range starting right after a line break also reports an empty box at the end of the line before.
    // Lines past the two-line clamp are not shown: a break there is not seen.
    const bottom = e.getBoundingClientRect().bottom + 1;
    const topOf = (i) => { r.setStart(text, i); r.setEnd(text, i + 1); const b = [...r.getClientRects()].pop(); return b && b.bottom <= bottom ? Math.round(b.top) : null; };
    for (let i = 1; i < text.data.length; i++) {
      const a = topOf(i - 1), b = topOf(i);
      if (a === null || b === null || a === b) continue;
      // Fine: at a space, at a soft hyphen, after a hard hyphen.
      const around = text.data[i - 1] + text.data[i];
      if (!around.includes(' ') && !around.includes('\\u00ad') && text.data[i - 1] !== '-') return e.textContent + ' @' + i;
    }
    return null;
  }).filter((x) => x !== null)`);

async function loadDoc(doc: GraphDocument): Promise<void> {
  await page.evaluate(`window.__forge.load(${JSON.stringify(doc)})`);
  await expect.poll(() => page.locator('.react-flow__node').count()).toBe(doc.nodes.length);
  // Fit view runs once the nodes are measured.
  await expect.poll(zoom, { timeout: 10_000 }).toBeLessThanOrEqual(1);
  await page.waitForTimeout(400);
}

async function setTheme(theme: 'light' | 'dark'): Promise<void> {
  if ((await page.getAttribute('html', 'data-theme')) !== theme) await page.getByTestId('theme-toggle').click();
  await expect.poll(() => page.getAttribute('html', 'data-theme')).toBe(theme);
}

describe.skipIf(!chromiumAvailable())(`readable canvas e2e (Chromium at ${CHROMIUM})`, () => {
  beforeAll(async () => {
    served = await serve((ws) => {
      mkdirSync(join(ws, 'data'));
      writeFileSync(join(ws, 'data', 'input.jsonl'), Array.from({ length: 8 }, (_, i) => JSON.stringify({ id: `r${i}`, text: `record ${i}` })).join('\n') + '\n');
    });
    ({ browser, context, page } = await openApp(served, { acceptDialogs: true }));
  });

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  it('lays the example out left to right and keeps it readable at fit view (1600×1000, both themes)', async () => {
    await loadDoc(EXAMPLE);
    const z = await zoom();
    // Zoomed out below 50 %, nodes switch to large type: the title must be ≥ 9 px on screen.
    expect(z).toBeGreaterThan(0.28);
    expect(await page.locator('.canvas.lod-far').count()).toBe(z < 0.5 ? 1 : 0);
    const titlePx = parseFloat(await cssOf('.fnode-far-title', 'fontSize'));
    expect(titlePx * z).toBeGreaterThanOrEqual(9);
    expect(await titlesBrokenMidWord()).toEqual([]);
    // Every edge goes to the right, or down into a later row of the wrapped layout — never back up.
    const pos = new Map(EXAMPLE.nodes.map((n) => [n.id, n.position as { x: number; y: number }]));
    const backwards = EXAMPLE.edges.filter((e) => {
      const a = pos.get(e.from.node) as { x: number; y: number };
      const b = pos.get(e.to.node) as { x: number; y: number };
      return !(b.x > a.x || b.y > a.y + 100);
    });
    expect(backwards).toEqual([]);
    await setTheme('light');
    await shot(page, 'readable-example-1600-light');
    await setTheme('dark');
    await shot(page, 'readable-example-1600-dark');
  });

  it('auto-layout (ELK) lays a shuffled example out again without overlaps, undoably', async () => {
    const shuffled = { ...EXAMPLE, nodes: EXAMPLE.nodes.map((n, i) => ({ ...n, position: { x: (i * 37) % 200, y: (i * 53) % 150 } })) };
    await loadDoc(shuffled as GraphDocument);
    await page.getByTestId('tb-edit.layout').click();
    await expect
      .poll(
        async () => {
          const d = await page.evaluate<GraphDocument>('window.__forge.doc()');
          return new Set(d.nodes.map((n) => `${n.position?.x},${n.position?.y}`)).size;
        },
        { timeout: 30_000 },
      )
      .toBe(EXAMPLE.nodes.length);
    const rects = await page.locator('.react-flow__node').evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => [r.left, r.top, r.right, r.bottom]));
    const overlaps = rects.flatMap((a, i) => rects.slice(i + 1).filter((b) => a[0]! < b[2]! && b[0]! < a[2]! && a[1]! < b[3]! && b[1]! < a[3]!)).length;
    expect(overlaps).toBe(0);
    await shot(page, 'readable-autolayout');
  });

  it('the output panel maximises and its splitter drag selects no text', async () => {
    await page.getByTestId('dock-max').click();
    expect(await page.getByTestId('bottom-panel').getAttribute('data-max')).toBe('true');
    const stage = await page.locator('.stage').boundingBox();
    const dock = await page.getByTestId('bottom-panel').boundingBox();
    expect(dock && stage ? dock.height / stage.height : 0).toBeGreaterThan(0.95);
    await shot(page, 'output-maximised');
    await page.getByTestId('dock-max').click();
    expect(await page.getByTestId('bottom-panel').getAttribute('data-max')).toBe('false');
    const bar = await page.getByTestId('dock-resizer').boundingBox();
    if (!bar) throw new Error('no splitter');
    const h0 = (await page.getByTestId('bottom-panel').boundingBox())?.height ?? 0;
    await page.mouse.move(bar.x + 200, bar.y + bar.height / 2);
    await page.mouse.down();
    await page.mouse.move(bar.x + 220, bar.y - 150, { steps: 10 });
    await page.mouse.up();
    const h1 = (await page.getByTestId('bottom-panel').boundingBox())?.height ?? 0;
    expect(h1).toBeGreaterThan(h0 + 100);
    expect(await page.evaluate<string>("window.getSelection()?.toString() ?? ''")).toBe('');
  });

  it('the minimap is off by default and toggles from the canvas controls', async () => {
    expect(await page.locator('.react-flow__minimap').count()).toBe(0);
    await page.getByTestId('minimap-toggle').click();
    expect(await page.locator('.react-flow__minimap').count()).toBe(1);
    await page.getByTestId('minimap-toggle').click();
    expect(await page.locator('.react-flow__minimap').count()).toBe(0);
  });

  it('continues independent branches on failure by default, says what was skipped, and Shift+Enter runs a clicked node', async () => {
    await loadDoc(BRANCHY);
    expect(await page.getByTestId('continue-on-failure').isChecked()).toBe(true);
    const bodies: unknown[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/runs') bodies.push(r.postDataJSON());
    });
    await page.getByTestId('run-all').click();
    // The graph holds user code (SQL): the app asks before it runs it.
    await page.getByTestId('trust-dialog').waitFor();
    await page.getByTestId('trust-confirm').click();
    await expect
      .poll(
        () =>
          page
            .locator('[data-testid="toast"]')
            .filter({ hasText: /Run finished/ })
            .count(),
        { timeout: 120_000 },
      )
      .toBeGreaterThan(0);
    expect(bodies.length).toBeGreaterThan(0);
    expect((bodies[0] as { continueOnFailure?: boolean }).continueOnFailure).toBe(true);
    expect(await page.getAttribute('[data-testid="node-bad"]', 'data-state')).toBe('failed');
    const toast = await page
      .locator('[data-testid="toast"]')
      .filter({ hasText: /Run finished/ })
      .last()
      .textContent();
    expect(toast).toMatch(/1 failed/);
    // src and good executed; bad failed; after_bad was skipped.
    expect(toast).toMatch(/2 ran · 0 cached · 1 failed/);
    expect(toast).toMatch(/skipped.*after_bad/);
    await shot(page, 'failure-policy-toast');

    // Shift+Enter right after clicking a node runs exactly that node.
    const before = bodies.length;
    await page.locator('.react-flow__node[data-id="good"] .fnode-head').click();
    await page.keyboard.press('Shift+Enter');
    await expect.poll(() => bodies.length, { timeout: 20_000 }).toBe(before + 1);
    expect(bodies[before]).toMatchObject({ mode: 'node', target: 'good' });
    expect(await page.locator('.react-flow__node[data-id="good"]').getAttribute('class')).toContain('selected');
  });

  it('a port dot opens that port; the inspector and Lineage follow the viewed output and light up its producers', async () => {
    const dot = page.locator('.react-flow__node[data-id="good"] .react-flow__handle.source[data-handleid="out"]');
    await dot.click();
    await expect.poll(() => page.getByTestId('output-node').textContent()).toBe('good');
    expect(await page.getByTestId('output-port-out').getAttribute('class')).toContain('active');
    await expect.poll(() => page.locator('.insp-head .mono').first().textContent()).toContain('good');
    await page.getByTestId('lineage-button').click();
    await expect.poll(() => page.locator('.fnode.lineage-hit').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')).sort())).toEqual(['node-good', 'node-src']);
    await shot(page, 'lineage-highlight');
    // Another node's output: the lineage view now describes that one, and the inspector follows.
    await page.locator('.react-flow__node[data-id="src"] .react-flow__handle.source[data-handleid="out"]').click();
    await expect.poll(() => page.getByTestId('output-node').textContent()).toBe('src');
    await expect.poll(() => page.locator('.fnode.lineage-hit').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')))).toEqual(['node-src']);
    await expect.poll(() => page.locator('.insp-head .mono').first().textContent()).toContain('src');
    await page.getByTestId('lineage-button').click();
    expect(await page.locator('.fnode.lineage-hit').count()).toBe(0);
  });

  it('Compare reads older → newer and tells "not executed in run B" apart from "changed"', async () => {
    await page.getByTestId('tab-history').click();
    await expect.poll(() => page.getByTestId('history-row').count()).toBeGreaterThanOrEqual(2);
    const rows = page.getByTestId('history-row');
    const newer = (await rows.nth(0).getAttribute('data-run-id')) as string;
    const older = (await rows.nth(1).getAttribute('data-run-id')) as string;
    // Ticked newest first: the compare must still read older → newer.
    await rows.nth(0).locator('input[type="checkbox"]').check();
    await rows.nth(1).locator('input[type="checkbox"]').check();
    await page.getByTestId('compare-runs').click();
    await page.getByTestId('run-diff').waitFor();
    const ids = await page.locator('[data-testid="run-diff"] .run-view-head .mono').allTextContents();
    expect(ids.slice(0, 2)).toEqual([older, newer]);
    // The newer run was "run this node" on `good`: the other nodes were not executed in it.
    await expect.poll(() => page.locator('[data-testid="diff-row"][data-kind="not-in-b"]').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-testid="diff-row"][data-kind="changed"]').count()).toBe(0);
    await shot(page, 'compare-older-newer');
    await page.getByTestId('tab-output').click();
  });

  it('the report output renders its charts inline as SVG, readable in the dark theme', async () => {
    const doc = {
      ...BRANCHY,
      name: 'report',
      nodes: [
        BRANCHY.nodes[0],
        { id: 'hist', type: 'view.histogram', params: { column: 'chars', bins: 5 }, position: { x: 320, y: 0 } },
        { id: 'report', type: 'sink.report', params: { title: 'Tiny report' }, position: { x: 640, y: 0 } },
      ],
      edges: [
        { from: { node: 'src', port: 'out' }, to: { node: 'hist', port: 'in' } },
        { from: { node: 'hist', port: 'metrics' }, to: { node: 'report', port: 'metrics' } },
        { from: { node: 'hist', port: 'chart' }, to: { node: 'report', port: 'charts' } },
      ],
    } as unknown as GraphDocument;
    await loadDoc(doc);
    await page.getByTestId('run-all').click();
    await expect.poll(() => page.getAttribute('[data-testid="node-report"]', 'data-state'), { timeout: 120_000 }).toMatch(/done|cached|failed/);
    expect(await page.getAttribute('[data-testid="node-report"]', 'data-state')).not.toBe('failed');
    await page.locator('[data-testid="port-report-report"]').click();
    await page.getByTestId('markdown-report').waitFor();
    await expect.poll(() => page.locator('[data-testid="report-chart"] svg.marks').count(), { timeout: 20_000 }).toBe(1);
    expect(await page.locator('[data-testid="report-chart"] figcaption').textContent()).toBe('hist.chart');
    await page.getByTestId('dock-max').click();
    await setTheme('dark');
    await page.waitForTimeout(500);
    await shot(page, 'report-inline-chart-dark');
    await setTheme('light');
    await page.waitForTimeout(500);
    await shot(page, 'report-inline-chart-light');
    await page.getByTestId('dock-max').click();
  });

  it('pops the output out into its own tab, charts and all', async () => {
    const [popup] = await Promise.all([context.waitForEvent('page'), page.getByTestId('dock-popout').click()]);
    await popup.waitForSelector('body[data-ready="true"]');
    await popup.setViewportSize({ width: 1280, height: 800 });
    expect(await popup.getByTestId('output-node').textContent()).toBe('report');
    await popup.getByTestId('markdown-report').waitFor();
    await expect.poll(() => popup.locator('[data-testid="report-chart"] svg.marks').count(), { timeout: 20_000 }).toBe(1);
    expect(await popup.locator('.react-flow').count()).toBe(0);
    await shot(popup, 'popout-output');
    await popup.close();
  });

  it('ports that cannot take the dragged connection dim while dragging', async () => {
    const from = await page.locator('.react-flow__node[data-id="hist"] .react-flow__handle.source[data-handleid="chart"]').boundingBox();
    if (!from) throw new Error('no hist.chart handle');
    const opacity = (node: string, port: string) => cssOf(`.react-flow__node[data-id="${node}"] .react-flow__handle.target[data-handleid="${port}"]`, 'opacity').then(Number);
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await page.mouse.down();
    await page.mouse.move(from.x + 60, from.y + 80, { steps: 6 });
    expect(await opacity('report', 'charts')).toBe(1);
    expect(await opacity('report', 'metrics')).toBeLessThan(0.5);
    expect(await opacity('hist', 'in')).toBeLessThan(0.5);
    await shot(page, 'connect-dims-incompatible');
    await page.mouse.move(from.x + 30, from.y + 2, { steps: 4 });
    await page.mouse.up();
    await page.keyboard.press('Escape');
    expect(await opacity('report', 'metrics')).toBe(1);
  });

  it('works at 1280×800 in both themes: toolbar fits, canvas readable at fit view', async () => {
    // A fresh profile on a laptop: nothing remembered from the steps above.
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.evaluate('localStorage.clear()');
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    await loadDoc(EXAMPLE);
    expect(await page.getByTestId('palette').count()).toBe(0);
    await nextFrames(page);
    const tb = await page.getByTestId('toolbar').evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
    expect(tb.scroll).toBeLessThanOrEqual(tb.client + 1);
    for (const id of ['run-all', 'theme-toggle', 'engine-status']) {
      const b = await page.getByTestId(id).boundingBox();
      expect(b && b.x + b.width <= 1280).toBe(true);
    }
    // The failure-policy checkbox keeps a visible label (a bare checkbox in a toolbar says nothing).
    expect(await page.locator('.run-opt').innerText()).toContain('keep going');
    // The toolbar gives up only what it must: a wide window shows every label, and it refits both ways.
    await page.setViewportSize({ width: 1920, height: 1000 });
    await nextFrames(page);
    expect(await page.getByTestId('toolbar').getAttribute('data-fit')).toBe('0');
    expect(await page.locator('.run-opt').innerText()).toBe('keep going on failure');
    expect(await page.getByTestId('run-node').innerText()).toBe('Run node');
    await page.setViewportSize({ width: 1280, height: 800 });
    await nextFrames(page);
    expect(Number(await page.getByTestId('toolbar').getAttribute('data-fit'))).toBeGreaterThan(0);
    expect(await page.locator('.run-opt').innerText()).toContain('keep going');
    // Side panels collapse to give the canvas the laptop's width.
    await page.getByTestId('toggle-palette').click();
    expect(await page.getByTestId('palette').count()).toBe(1);
    await shot(page, 'laptop-1280-palette-open');
    const before = (await page.getByTestId('canvas').boundingBox())?.width ?? 0;
    await page.getByTestId('toggle-palette').click();
    await page.getByTestId('toggle-inspector').click();
    expect(await page.getByTestId('palette').count()).toBe(0);
    expect(await page.getByTestId('inspector').count()).toBe(0);
    const after = (await page.getByTestId('canvas').boundingBox())?.width ?? 0;
    expect(after).toBeGreaterThan(before + 300);
    expect(after).toBeGreaterThan(1200);
    await page.getByTestId('tb-view.fit').click();
    await page.waitForTimeout(600);
    // Fit view with both panels folded: the semantic-zoom titles are ≥ 9 px on screen.
    const z = await zoom();
    const titlePx = parseFloat(await cssOf('.fnode-far-title', 'fontSize'));
    expect(titlePx * Math.min(z, 1)).toBeGreaterThanOrEqual(9);
    expect(await titlesBrokenMidWord()).toEqual([]);
    await setTheme('light');
    await shot(page, 'readable-example-1280-light');
    await setTheme('dark');
    await shot(page, 'readable-example-1280-dark');
    await page.getByTestId('toggle-inspector').click();
    expect(await page.getByTestId('inspector').count()).toBe(1);
    await context.clearCookies();
  });
});
