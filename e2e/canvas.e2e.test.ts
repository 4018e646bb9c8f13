// The canvas acceptance scenario of issue 3, end to end: Debian Chromium driving the real UI
// against `forge serve` on a temporary workspace. Each step leaves a screenshot in test-results/e2e/.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphDocument } from '../engine/graph/document.js';
import type { RunDetail, RunRow } from '../engine/provenance/queries.js';
import { api, chromiumAvailable, CHROMIUM, dragBetween, openApp, RESULTS, selectNode, serve, shot, type Served } from './harness.js';

const RECORDS = Array.from({ length: 10 }, (_, i) => ({
  id: `r${i + 1}`,
  text: i === 2 ? 'short' : `Record ${i + 1}: the quick brown fox number ${i + 1} jumps over the lazy dog.`,
  topic: i % 2 === 0 ? 'even' : 'odd',
}));

let served: Served;
let browser: Browser;
let page: Page;

const doc = () => page.evaluate<GraphDocument>('window.__forge.doc()');
const nodeState = (id: string) => page.getAttribute(`[data-testid="node-${id}"]`, 'data-state');
const node = (id: string) => page.locator(`.react-flow__node[data-id="${id}"]`);

async function dropFromPalette(type: string, x: number, y: number): Promise<string> {
  const before = new Set((await doc()).nodes.map((n) => n.id));
  await page.dragAndDrop(`[data-testid="palette-item-${type}"]`, '.react-flow__pane', { targetPosition: { x, y } });
  await expect.poll(async () => (await doc()).nodes.length).toBe(before.size + 1);
  const added = (await doc()).nodes.find((n) => !before.has(n.id));
  return added?.id as string;
}

async function dragConnection(from: string, fromPort: string, to: string, toPort: string): Promise<void> {
  const a = await node(from).locator(`.react-flow__handle.source[data-handleid="${fromPort}"]`).boundingBox();
  const b = await node(to).locator(`.react-flow__handle.target[data-handleid="${toPort}"]`).boundingBox();
  if (!a || !b) throw new Error(`handles not found: ${from}.${fromPort} → ${to}.${toPort}`);
  await dragBetween(page, a, b);
}

const select = (id: string) => selectNode(page, id);

async function typeInMonaco(testId: string, text: string): Promise<void> {
  const editor = page.locator(`[data-testid="${testId}"][data-ready="true"] .monaco-editor`);
  await editor.waitFor();
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  await page.keyboard.insertText(text);
}

interface RunInfo {
  active: string | null;
  last: string | null;
}
const runInfo = () => page.evaluate<RunInfo>('window.__forge.run()');

/** Clicks something that starts a run, then waits until that run has finished in the UI. */
async function runAndWait(start: () => Promise<void>, beforeFinish?: () => Promise<void>): Promise<string> {
  const before = (await runInfo()).last;
  await start();
  await beforeFinish?.();
  await expect.poll(async () => (await runInfo()).last, { timeout: 120_000, interval: 200 }).not.toBe(before);
  const r = await runInfo();
  expect(r.active).toBeNull();
  return r.last as string;
}

const ids = { src: '', filter: '', sample: '', write: '' };

describe.skipIf(!chromiumAvailable())(`canvas e2e (Chromium at ${CHROMIUM})`, () => {
  beforeAll(async () => {
    mkdirSync(RESULTS, { recursive: true });
    served = await serve((ws) => {
      mkdirSync(join(ws, 'data'));
      writeFileSync(join(ws, 'data', 'input.jsonl'), RECORDS.map((r) => JSON.stringify(r)).join('\n') + '\n');
    });
    let errors: string[];
    ({ browser, page, errors } = await openApp(served, { acceptDialogs: true }));
    expect(errors).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  it('builds a 4-node graph by dragging from the palette', async () => {
    await expect.poll(() => page.locator('.palette-item').count()).toBeGreaterThan(4);
    ids.src = await dropFromPalette('source.jsonl', 150, 110);
    ids.filter = await dropFromPalette('transform.filter', 520, 110);
    ids.sample = await dropFromPalette('transform.sample', 150, 340);
    ids.write = await dropFromPalette('sink.write', 520, 340);
    expect((await doc()).nodes.map((n) => n.type)).toEqual(['source.jsonl', 'transform.filter', 'transform.sample', 'sink.write']);
    await expect.poll(() => page.locator('.react-flow__node').count()).toBe(4);
    await shot(page, 'four-nodes-dropped');
  });

  it('connects typed ports', async () => {
    await dragConnection(ids.src, 'out', ids.filter, 'in');
    await dragConnection(ids.filter, 'out', ids.sample, 'in');
    await dragConnection(ids.sample, 'out', ids.write, 'in');
    await expect.poll(async () => (await doc()).edges.length).toBe(3);
    expect((await doc()).edges.map((e) => `${e.from.node}.${e.from.port}->${e.to.node}.${e.to.port}`)).toEqual([
      `${ids.src}.out->${ids.filter}.in`,
      `${ids.filter}.out->${ids.sample}.in`,
      `${ids.sample}.out->${ids.write}.in`,
    ]);
    await shot(page, 'connected');
  });

  it('refuses an invalid connection and shows why', async () => {
    // metrics output → dataset input: kind mismatch.
    await dragConnection(ids.write, 'report', ids.filter, 'in');
    const toast = page.getByTestId('toast').filter({ hasText: 'Connection refused' }).last();
    await expect.poll(() => toast.textContent()).toContain('kind mismatch');
    expect(await toast.textContent()).toContain('metrics');
    await shot(page, 'invalid-connection-kind-mismatch');
    // A second feed into an already-connected input.
    await dragConnection(ids.src, 'out', ids.sample, 'in');
    await expect.poll(() => page.getByTestId('toast').filter({ hasText: 'input already connected' }).count()).toBeGreaterThan(0);
    await shot(page, 'invalid-connection-input-taken');
    expect((await doc()).edges).toHaveLength(3);
  });

  it('sets params in the inspector (text, code in Monaco, number, enum)', async () => {
    await select(ids.src);
    await page.getByTestId('param-path').fill('data/input.jsonl');
    await page.getByTestId('param-idField').fill('id');
    await select(ids.filter);
    await typeInMonaco('param-where', 'length(text) > 10');
    await select(ids.sample);
    await page.getByTestId('param-mode').selectOption('sample');
    await page.getByTestId('param-rows').fill('5');
    await select(ids.write);
    await page.getByTestId('param-path').fill('out/result.jsonl');
    await page.getByTestId('param-format').selectOption('jsonl');
    const d = await doc();
    const params = Object.fromEntries(d.nodes.map((n) => [n.id, n.params]));
    expect(params[ids.src]).toMatchObject({ path: 'data/input.jsonl', idField: 'id' });
    expect(params[ids.filter]).toMatchObject({ where: 'length(text) > 10' });
    expect(params[ids.sample]).toMatchObject({ mode: 'sample', rows: 5 });
    expect(params[ids.write]).toMatchObject({ path: 'out/result.jsonl', format: 'jsonl' });
    // The engine accepts the graph (no problems once everything is connected and set).
    await expect.poll(() => page.getByTestId('tab-problems').textContent(), { timeout: 10_000 }).toBe('Problems');
    await shot(page, 'params-set');
  });

  it('runs all and every node reaches done', async () => {
    await runAndWait(() => page.getByTestId('run-all').click());
    for (const id of Object.values(ids)) expect(await nodeState(id)).toBe('done');
    await shot(page, 'run-all-done');
  });

  it('opens the output table and reads a value that matches the input data', async () => {
    await page.getByTestId(`port-${ids.src}-out`).click();
    const table = page.getByTestId('data-table');
    await table.waitFor();
    expect(await table.getByTestId('row-count').textContent()).toContain('10');
    const first = table.getByTestId('dt-row').first();
    expect(await first.locator('[data-col="id"]').textContent()).toBe('r1');
    expect(await first.locator('[data-col="text"]').textContent()).toBe(RECORDS[0]?.text);
    await shot(page, 'output-table-source');
    // The filter dropped the one short record.
    await page.getByTestId(`port-${ids.filter}-out`).click();
    await expect.poll(() => page.getByTestId('row-count').textContent()).toContain('9');
    await shot(page, 'output-table-filter');
  });

  it('marks the edited node and its descendants stale when a param changes', async () => {
    await select(ids.sample);
    await page.getByTestId('param-rows').fill('4');
    await expect.poll(() => nodeState(ids.sample)).toBe('stale');
    expect(await nodeState(ids.write)).toBe('stale');
    expect(await nodeState(ids.src)).toBe('done');
    expect(await nodeState(ids.filter)).toBe('done');
    expect(await node(ids.sample).getByTestId('node-status').textContent()).toContain('param changed: rows');
    expect(await node(ids.write).getByTestId('node-status').textContent()).toContain(`upstream "${ids.sample}" will run`);
    await shot(page, 'stale-after-param-change');
  });

  it('"run this node" re-executes exactly that node (checked in provenance)', async () => {
    await node(ids.sample).locator('.fnode-head').click({ button: 'right' });
    await shot(page, 'context-menu');
    const runId = await runAndWait(() => page.getByTestId('ctx-run-node').click());
    expect(await nodeState(ids.sample)).toBe('done');
    const [latest] = await api<RunRow[]>(served, '/api/runs?limit=1');
    expect(latest?.id).toBe(runId);
    expect(latest?.mode).toBe('node');
    expect(latest?.target).toBe(ids.sample);
    const detail = await api<RunDetail>(served, `/api/runs/${latest?.id}`);
    const executed = detail.executions.filter((e) => !e.cached && e.status !== 'skipped').map((e) => e.nodeId);
    expect(executed).toEqual([ids.sample]);
    // Its upstream was reused from the cache, and nothing downstream ran.
    expect(
      detail.executions
        .filter((e) => e.cached)
        .map((e) => e.nodeId)
        .sort(),
    ).toEqual([ids.src, ids.filter].sort());
    expect(detail.executions.some((e) => e.nodeId === ids.write)).toBe(false);
    expect(await nodeState(ids.write)).toBe('stale');
    await page.getByTestId('tab-history').click();
    await page.getByTestId('history-row').first().click();
    await page.getByTestId('run-detail').waitFor();
    await shot(page, 'run-this-node-history');
  });

  it('undo and redo restore the graph', async () => {
    await page.getByTestId('tab-output').click();
    const before = await doc();
    await select(ids.write);
    await page.keyboard.press('Delete');
    await expect.poll(async () => (await doc()).nodes.length).toBe(3);
    expect((await doc()).edges).toHaveLength(2);
    await shot(page, 'deleted-node');
    await page.keyboard.press('Control+Z');
    await expect.poll(async () => (await doc()).nodes.length).toBe(4);
    expect(await doc()).toEqual(before);
    await shot(page, 'undo-restored');
    await page.keyboard.press('Control+Shift+Z');
    await expect.poll(async () => (await doc()).nodes.length).toBe(3);
    await page.keyboard.press('Control+Z');
    await expect.poll(async () => (await doc()).nodes.length).toBe(4);
    expect(await doc()).toEqual(before);
    // Param edits are undoable too: rows goes back to 5, and sample is stale against its last result (4).
    await page.getByTestId('tb-undo').click();
    await expect.poll(async () => (await doc()).nodes.find((n) => n.id === ids.sample)?.params.rows).toBe(5);
    await expect.poll(() => nodeState(ids.sample)).toBe('stale');
    await page.getByTestId('tb-redo').click();
    await expect.poll(async () => (await doc()).nodes.find((n) => n.id === ids.sample)?.params.rows).toBe(4);
    await expect.poll(() => nodeState(ids.sample)).toBe('done');
  });

  let exported: GraphDocument;
  let before: GraphDocument;
  it('exports the config, reloads, imports it and gets the same graph', async () => {
    before = await doc();
    const download = page.waitForEvent('download');
    await page.getByTestId('tb-export').click();
    const file = join(RESULTS, 'exported.config.forge.json');
    await (await download).saveAs(file);
    exported = JSON.parse(readFileSync(file, 'utf8')) as GraphDocument;
    expect(exported.format).toBe('forge-graph');
    expect(Object.keys(exported.pins?.files ?? {})).toContain('data/input.jsonl');
    expect(exported.nodes.map(({ id, type, params, position }) => ({ id, type, params, position }))).toEqual(before.nodes.map(({ id, type, params, position }) => ({ id, type, params, position })));

    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    expect((await doc()).nodes).toHaveLength(0);
    await shot(page, 'reloaded-empty');

    await page.getByTestId('import-input').setInputFiles(file);
    await expect.poll(async () => (await doc()).nodes.length).toBe(4);
    expect(await doc()).toEqual(exported);
    const strip = (d: GraphDocument) => ({ nodes: d.nodes.map(({ id, type, params, position }) => ({ id, type, params, position })), edges: d.edges, seed: d.seed });
    expect(strip(await doc())).toEqual(strip(before));
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(3);
    // It came from a file and carries SQL: it must not run without consent.
    expect(await page.getByTestId('untrusted').isVisible()).toBe(true);
    await shot(page, 'imported');
  });

  it('a failing node shows its error on the node while the app stays usable', async () => {
    await select(ids.filter);
    await typeInMonaco('param-where', 'no_such_column > 1');
    await runAndWait(
      () => page.getByTestId('run-all').click(),
      async () => {
        await page.getByTestId('trust-dialog').waitFor();
        await shot(page, 'trust-prompt');
        await page.getByTestId('trust-confirm').click();
      },
    );
    expect(await nodeState(ids.filter)).toBe('failed');
    const err = node(ids.filter).getByTestId('node-error');
    expect(await err.isVisible()).toBe(true);
    expect((await err.textContent())?.toLowerCase()).toContain('no_such_column');
    expect(await nodeState(ids.sample)).toBe('skipped');
    await shot(page, 'failed-node');

    // Still usable: fix it, run again, everything completes.
    await typeInMonaco('param-where', 'length(text) > 10');
    await runAndWait(() => page.getByTestId('run-all').click());
    for (const id of Object.values(ids)) expect(['done', 'cached']).toContain(await nodeState(id));
    await page.keyboard.press('Control+K');
    await page.getByTestId('command-input').fill('split');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await doc()).nodes.length).toBe(5);
    await shot(page, 'recovered-and-quick-add');
  });
});
