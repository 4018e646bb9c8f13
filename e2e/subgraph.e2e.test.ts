// Issue 13 item 3: reusable subgraphs in Debian Chromium against `forge serve`. A user groups two
// nodes into a subgraph, runs (everything is reused from the ungrouped run: the engine flattens
// subgraphs, so cache keys do not change), opens it and comes back by the breadcrumb, saves it to
// the library, and inserts it into a new graph where it is reused again. Screenshots at 1600×1000
// and 1280×800 in both themes land in test-results/e2e/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphDocument } from '../engine/graph/document.js';
import type { RunDetail } from '../engine/provenance/queries.js';
import { api, chromiumAvailable, CHROMIUM, dragBetween, openApp, RESULTS, serve, shot, type Served } from './harness.js';

const GRAPH = 'pipeline.forge.json';
const RECORDS = Array.from({ length: 40 }, (_, i) => ({ id: `r${i + 1}`, text: `Record ${i + 1}: a line of text about topic ${i % 5}.` }));
const PIPELINE = {
  format: 'forge-graph',
  version: 3,
  name: 'Subgraph demo',
  seed: 11,
  nodes: [
    { id: 'src', type: 'source.jsonl', params: { path: 'data/input.jsonl', idField: 'id' }, position: { x: 0, y: 0 } },
    { id: 'shuffle', type: 'transform.sample', params: { mode: 'shuffle' }, position: { x: 320, y: 0 } },
    { id: 'split', type: 'transform.split', params: { testFraction: 0.25 }, position: { x: 640, y: 0 } },
    { id: 'write', type: 'sink.write', params: { path: 'out/train.jsonl', format: 'jsonl' }, position: { x: 960, y: 0 } },
  ],
  edges: [
    { from: { node: 'src', port: 'out' }, to: { node: 'shuffle', port: 'in' } },
    { from: { node: 'shuffle', port: 'out' }, to: { node: 'split', port: 'in' } },
    { from: { node: 'split', port: 'train' }, to: { node: 'write', port: 'in' } },
  ],
};

let served: Served;
let browser: Browser;
let page: Page;
let errors: string[] = [];

// Generous waits on state (never sleeps): the machine running this may be busy.
const WAIT = { timeout: 60_000, interval: 150 };
const doc = () => page.evaluate<GraphDocument>('window.__forge.doc()');
const runInfo = () => page.evaluate<{ active: string | null; last: string | null }>('window.__forge.run()');
const node = (id: string) => page.locator(`.react-flow__node[data-id="${id}"]`);
const nodeState = (id: string) => page.getAttribute(`[data-testid="node-${id}"]`, 'data-state');

async function runAll(): Promise<RunDetail> {
  const before = (await runInfo()).last;
  await page.getByTestId('run-all').click();
  await expect.poll(async () => (await runInfo()).last, { timeout: 170_000, interval: 250 }).not.toBe(before);
  await expect.poll(async () => (await runInfo()).active, WAIT).toBeNull();
  return api<RunDetail>(served, `/api/runs/${(await runInfo()).last as string}`);
}

/** node id → port → artifact hash, with the subgraph prefix removed (the node a user knows). */
function outputsOf(run: RunDetail, prefix = ''): Record<string, Record<string, string>> {
  return Object.fromEntries(run.executions.map((e) => [e.nodeId.startsWith(prefix) ? e.nodeId.slice(prefix.length) : e.nodeId, Object.fromEntries(e.outputs.map((o) => [o.port, o.hash]))]));
}

async function setTheme(theme: 'light' | 'dark'): Promise<void> {
  if ((await page.getAttribute('html', 'data-theme')) !== theme) await page.getByTestId('theme-toggle').click();
  await expect.poll(() => page.getAttribute('html', 'data-theme'), WAIT).toBe(theme);
}

/** A handle's box once the view has stopped moving (fit view animates), so a drag lands where aimed. */
async function settledBox(selector: ReturnType<Page['locator']>): Promise<{ x: number; y: number; width: number; height: number }> {
  let last = '';
  await expect
    .poll(async () => {
      const box = JSON.stringify(await selector.boundingBox());
      const same = box === last && box !== 'null';
      last = box;
      return same;
    }, WAIT)
    .toBe(true);
  return JSON.parse(last) as { x: number; y: number; width: number; height: number };
}

async function dragConnection(from: string, fromPort: string, to: string, toPort: string): Promise<void> {
  const a = await settledBox(node(from).locator(`.react-flow__handle.source[data-handleid="${fromPort}"]`));
  const b = await settledBox(node(to).locator(`.react-flow__handle.target[data-handleid="${toPort}"]`));
  await dragBetween(page, a, b);
}

/** Screenshots at both window sizes in both themes, then back to 1600×1000 dark. */
async function shotsEverywhere(name: string): Promise<void> {
  for (const [w, h] of [
    [1600, 1000],
    [1280, 800],
  ] as const) {
    await page.setViewportSize({ width: w, height: h });
    await page.getByTestId('tb-view.fit').click();
    for (const theme of ['dark', 'light'] as const) {
      await setTheme(theme);
      await shot(page, `subgraph-${name}-${w}x${h}-${theme}`);
    }
  }
  await page.setViewportSize({ width: 1600, height: 1000 });
  await setTheme('dark');
}

let ungrouped: RunDetail;

describe.skipIf(!chromiumAvailable())(`subgraph e2e (Chromium at ${CHROMIUM})`, () => {
  beforeAll(async () => {
    mkdirSync(RESULTS, { recursive: true });
    served = await serve((ws) => {
      mkdirSync(join(ws, 'data'));
      writeFileSync(join(ws, 'data', 'input.jsonl'), RECORDS.map((r) => JSON.stringify(r)).join('\n') + '\n');
      writeFileSync(join(ws, GRAPH), JSON.stringify(PIPELINE, null, 2));
    });
    ({ browser, page, errors } = await openApp(served, { file: GRAPH, acceptDialogs: true }));
    await page.locator('.react-flow__node').nth(3).waitFor({ timeout: 60_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  it('runs the ungrouped graph, then groups two nodes into a subgraph with typed ports', async () => {
    ungrouped = await runAll();
    expect(
      ungrouped.executions
        .filter((e) => !e.cached)
        .map((e) => e.nodeId)
        .sort(),
    ).toEqual(['shuffle', 'split', 'src', 'write']);

    await node('shuffle').locator('.fnode-head').click();
    await node('split')
      .locator('.fnode-head')
      .click({ modifiers: ['Control'] });
    await expect.poll(() => page.getByTestId('inspector').textContent(), WAIT).toContain('2 nodes selected');
    await page.getByRole('button', { name: 'Group into subgraph' }).click();

    await expect.poll(() => page.locator('.react-flow__node').count(), WAIT).toBe(3);
    const grouped = await doc();
    const sub = grouped.nodes.find((n) => n.type === 'subgraph');
    expect(sub?.subgraph?.nodes?.map((n) => n.id)).toEqual(['shuffle', 'split']);
    expect(sub?.subgraph?.inputs).toMatchObject({ in: { kind: 'dataset', to: [{ node: 'shuffle', port: 'in' }] } });
    expect(sub?.subgraph?.outputs).toMatchObject({ train: { kind: 'dataset', from: { node: 'split', port: 'train' } } });
    expect(grouped.edges.map((e) => `${e.from.node}.${e.from.port}->${e.to.node}.${e.to.port}`).sort()).toEqual(['src.out->subgraph.in', 'subgraph.train->write.in']);
    // The subgraph node shows its ports like any node.
    await expect.poll(() => node('subgraph').locator('.react-flow__handle.target[data-handleid="in"]').count(), WAIT).toBe(1);
    await expect.poll(() => node('subgraph').locator('.react-flow__handle.source[data-handleid="train"]').count(), WAIT).toBe(1);
    await shot(page, 'subgraph-grouped');
  });

  it('runs the grouped graph from cache with the same artifacts as the ungrouped run', async () => {
    const run = await runAll();
    expect(run.executions.filter((e) => !e.cached)).toEqual([]);
    expect(run.executions.map((e) => e.nodeId).sort()).toEqual(['src', 'subgraph/shuffle', 'subgraph/split', 'write']);
    expect(outputsOf(run, 'subgraph/')).toEqual(outputsOf(ungrouped));
    await expect.poll(() => nodeState('subgraph'), WAIT).toBe('cached');

    // Expanded, it lists its inner nodes with their states.
    await page.getByRole('button', { name: 'Expand subgraph subgraph' }).click();
    await expect.poll(() => page.getByTestId('inner-subgraph/shuffle').getAttribute('data-state'), WAIT).toBe('cached');
    await expect.poll(() => page.getByTestId('inner-subgraph/split').getAttribute('data-state'), WAIT).toBe('cached');
    // Its output port shows the inner output it exposes.
    await node('subgraph').getByTestId('port-subgraph-train').click();
    await expect.poll(() => page.getByTestId('output-panel').textContent(), WAIT).toContain('rows');
    await shotsEverywhere('expanded-cached');
    await page.getByRole('button', { name: 'Collapse subgraph subgraph' }).click();
  });

  it('opens the subgraph to edit and comes back by the breadcrumb', async () => {
    await page.getByRole('button', { name: 'Open subgraph subgraph' }).click();
    const crumbs = page.getByRole('navigation', { name: 'Subgraph breadcrumb' });
    await crumbs.waitFor();
    await expect.poll(() => page.locator('.react-flow__node').count(), WAIT).toBe(2);
    // The breadcrumb says what feeds the subgraph and what leaves it.
    expect(await crumbs.textContent()).toContain('in → shuffle.in');
    expect(await crumbs.textContent()).toContain('split.train → train');
    // Inner nodes show their own states under their full ids.
    await expect.poll(() => nodeState('shuffle'), WAIT).toBe('cached');
    await shotsEverywhere('opened');
    await crumbs.getByRole('button', { name: /Subgraph demo/ }).click();
    await expect.poll(() => page.locator('.react-flow__node').count(), WAIT).toBe(3);
    expect(await crumbs.count()).toBe(0);
  });

  it('saves the subgraph to the library and inserts it into a new graph, where it is reused', async () => {
    await node('subgraph').locator('.fnode-head').click();
    await page.getByRole('textbox', { name: 'Subgraph label' }).fill('shuffle-split');
    await node('subgraph').click({ button: 'right' });
    await page.getByRole('menuitem', { name: 'Save to library' }).click();
    await expect.poll(() => page.getByTestId('toast').filter({ hasText: 'components/shuffle-split.forge.json' }).count(), WAIT).toBeGreaterThan(0);
    const files = await api<{ path: string }[]>(served, '/api/graphs');
    expect(files.map((f) => f.path)).toContain('components/shuffle-split.forge.json');
    const library = page.getByRole('region', { name: 'Component library' });
    await expect.poll(() => library.getByTestId('library-item-shuffle-split').count(), WAIT).toBe(1);

    // Keep the source for the new graph, save this one, start a new graph.
    await node('src').locator('.fnode-head').click();
    await page.keyboard.press('Control+C');
    await page.keyboard.press('Control+S');
    await expect.poll(() => page.getByTestId('dirty').count(), WAIT).toBe(0);
    await page.keyboard.press('Control+Alt+KeyN');
    await expect.poll(() => page.locator('.react-flow__node').count(), WAIT).toBe(0);
    // The same graph seed as the first graph: the seed is part of every cache key.
    await page.getByRole('textbox', { name: /^Seed/ }).fill('11');
    await expect.poll(async () => (await doc()).seed, WAIT).toBe(11);

    await page.locator('.react-flow__pane').click({ button: 'right', position: { x: 200, y: 200 } });
    await page.getByRole('menuitem', { name: /^Paste/ }).click();
    await expect.poll(() => page.locator('.react-flow__node').count(), WAIT).toBe(1);
    await library.getByRole('button', { name: 'Insert shuffle-split' }).click();
    await expect.poll(() => page.locator('.react-flow__node').count(), WAIT).toBe(2);
    const inserted = (await doc()).nodes.find((n) => n.type === 'subgraph');
    expect(inserted?.subgraph).toEqual({ component: 'components/shuffle-split.forge.json' });
    const id = inserted?.id as string;
    await expect.poll(() => node(id).locator('.react-flow__handle.target[data-handleid="in"]').count(), WAIT).toBe(1);
    await page.getByTestId('tb-view.fit').click();
    await dragConnection('src', 'out', id, 'in');
    await shot(page, 'subgraph-library-connected');
    await expect.poll(async () => (await doc()).edges.length, WAIT).toBe(1);

    const run = await runAll();
    expect(run.executions.filter((e) => !e.cached)).toEqual([]);
    expect(outputsOf(run, `${id}/`)).toEqual(Object.fromEntries(Object.entries(outputsOf(ungrouped)).filter(([k]) => k !== 'write')));
    await expect.poll(() => nodeState(id), WAIT).toBe('cached');
    await shotsEverywhere('library-inserted');
    expect(errors).toEqual([]);
  });
});
