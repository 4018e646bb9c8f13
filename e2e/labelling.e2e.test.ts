// Issue 10 item 5: the labelling panel of ml.label-sample, driven by keyboard in Debian Chromium
// against `forge serve`, on the bundled labelled pool (the example graph resources/examples/labelling.forge.json).
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, chromiumAvailable, CHROMIUM, openApp, REPO, serve, shot, type Served } from './harness.js';

const GRAPH = 'resources/examples/labelling.forge.json';
const SAMPLE_SIZE = 40;

/** The pool's own ground truth, to label as a careful user would (by text; whitespace normalised). */
const norm = (t: string) => t.replace(/\s+/g, ' ').trim();
const TRUTH = new Map(
  readFileSync(join(REPO, 'resources/data/labelled-pool/pool-small.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { text: string; is_agent: boolean })
    .map((r) => [norm(r.text), r.is_agent]),
);

let served: Served;
let browser: Browser;
let page: Page;

const node = (id: string) => page.locator(`.react-flow__node[data-id="${id}"]`);
const nodeState = (id: string) => page.getAttribute(`[data-testid="node-${id}"]`, 'data-state');
const runInfo = () => page.evaluate<{ active: string | null; last: string | null }>('window.__forge.run()');

async function runAll(): Promise<string> {
  const before = (await runInfo()).last;
  await page.getByTestId('run-all').click();
  await expect.poll(async () => (await runInfo()).last, { timeout: 170_000, interval: 250 }).not.toBe(before);
  return (await runInfo()).last as string;
}

async function setTheme(theme: 'light' | 'dark'): Promise<void> {
  if ((await page.getAttribute('html', 'data-theme')) !== theme) await page.getByTestId('theme-toggle').click();
  await expect.poll(() => page.getAttribute('html', 'data-theme')).toBe(theme);
}

interface LabelsMeta {
  manifest: { meta: { sampleHash: string; labelsFile: string } };
}

describe.skipIf(!chromiumAvailable())(`labelling panel e2e (Chromium at ${CHROMIUM})`, () => {
  beforeAll(async () => {
    served = await serve((ws) => {
      cpSync(join(REPO, 'resources/examples/labelling.forge.json'), join(ws, GRAPH));
      cpSync(join(REPO, 'resources/data/labelled-pool'), join(ws, 'resources/data/labelled-pool'), { recursive: true });
      cpSync(join(REPO, 'resources/data/agent/torchhub_api.jsonl'), join(ws, 'resources/data/agent/torchhub_api.jsonl'));
    });
    let errors: string[];
    ({ browser, page, errors } = await openApp(served, { file: GRAPH }));
    // expect.poll is only allowed inside a test; wait in the page instead.
    await page.waitForFunction("document.querySelectorAll('.react-flow__node').length === 4");
    expect(errors).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  it('runs the example, labels the sample by keyboard, reruns and shows pool precision / recall', async () => {
    await runAll();
    await expect.poll(() => nodeState('label')).toMatch(/done|cached/);
    await node('label').locator('.fnode-head').click();
    const panel = page.getByTestId('label-panel');
    await panel.waitFor();
    await expect.poll(() => page.getByTestId('label-progress').textContent()).toBe(`0 / ${SAMPLE_SIZE} labelled`);
    expect(await page.getByTestId('label-precision').textContent()).toContain('n/a');
    await panel.focus();

    // Keys: 0 then ArrowLeft, Backspace clears it again; 1 labels and moves on.
    await page.keyboard.press('0');
    await expect.poll(() => page.getByTestId('label-position').textContent()).toBe(`2 / ${SAMPLE_SIZE}`);
    await page.keyboard.press('ArrowLeft');
    expect(await page.getByTestId('label-state').textContent()).toBe('not agent');
    await page.keyboard.press('Backspace');
    expect(await page.getByTestId('label-state').textContent()).toBe('unlabelled');
    // Backspace belonged to the panel: the selected node was not deleted.
    expect(await page.locator('.react-flow__node').count()).toBe(4);
    await expect.poll(() => page.getByTestId('label-progress').textContent()).toBe(`0 / ${SAMPLE_SIZE} labelled`);

    // Label every document with the pool's truth, one key each (the panel moves on by itself).
    let agents = 0;
    for (let i = 0; i < SAMPLE_SIZE; i++) {
      await expect.poll(() => page.getByTestId('label-position').textContent()).toBe(`${i + 1} / ${SAMPLE_SIZE}`);
      const text = norm((await page.getByTestId('label-text').textContent()) ?? '');
      const truth = TRUTH.get(text);
      expect(truth, `document ${i + 1} is in the pool`).not.toBeUndefined();
      if (truth) agents++;
      await page.keyboard.press(truth ? '1' : '0');
      if (i === 11) {
        await expect.poll(() => page.getByTestId('label-progress').textContent()).toBe(`12 / ${SAMPLE_SIZE} labelled`);
        await shot(page, 'labelling-in-progress-dark-1600');
      }
    }
    expect(agents).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('label-progress').textContent()).toBe(`${SAMPLE_SIZE} / ${SAMPLE_SIZE} labelled`);
    await expect.poll(() => page.getByTestId('label-precision').textContent()).toMatch(/^P \d+\.\d % \[\d+\.\d % – \d+\.\d %\]$/);
    expect(await page.getByTestId('label-recall').textContent()).toMatch(/^R \d+\.\d % \[/);

    // Saved beside the graph, and the node is stale (its labels file changed).
    const status = (await page.evaluate<Record<string, { outputs?: { port: string; hash: string }[] }>>('window.__forge.status()')).label;
    const labelsHash = status?.outputs?.find((o) => o.port === 'labels')?.hash as string;
    const meta = await api<LabelsMeta>(served, `/api/artifacts/${encodeURIComponent(labelsHash)}`);
    const file = join(served.workspace, 'resources/examples', meta.manifest.meta.labelsFile);
    await expect.poll(() => existsSync(file) && Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { labels: object }).labels).length).toBe(SAMPLE_SIZE);
    await expect.poll(() => nodeState('label'), { timeout: 30_000 }).toBe('stale');
    await shot(page, 'labelling-done-stale-dark-1600');
    await setTheme('light');
    await shot(page, 'labelling-done-light-1600');

    // Rerun: only the labelling node runs, and its metrics carry the labelled estimate.
    await runAll();
    await expect.poll(() => nodeState('label')).toBe('done');
    for (const id of ['seeds', 'pool', 'bm25']) expect(await nodeState(id)).toBe('cached');
    await page.getByTestId('output-port-metrics').click();
    await expect.poll(() => page.getByTestId('output-panel').textContent(), { timeout: 20_000 }).toContain('precision_ci_low');
    const text = (await page.getByTestId('output-panel').textContent()) ?? '';
    expect(text).toMatch(/labelled\s*40/);
    await shot(page, 'labelling-metrics-light-1600');

    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByTestId('output-port-labels').click();
    await page.getByTestId('label-panel').waitFor();
    await expect.poll(() => page.getByTestId('label-progress').textContent()).toBe(`${SAMPLE_SIZE} / ${SAMPLE_SIZE} labelled`);
    await shot(page, 'labelling-light-1280');
    await setTheme('dark');
    await shot(page, 'labelling-dark-1280');
  });
});
