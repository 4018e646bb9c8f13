// Issue 9, the app side of granted folders: a stranger's graph that writes outside the workspace is
// refused (trust dialog); granting the folder in Settings makes it run without trust. Real
// `forge serve`, real Chromium; screenshots at 1600x1000 and 1280x800 in test-results/e2e/.
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail, RunRow } from '../engine/provenance/queries.js';
import { shotsAtBothSizes } from './app-checks.js';
import { api, chromiumAvailable, CHROMIUM, openApp, serve, type Served } from './harness.js';

let served: Served;
let browser: Browser;
let page: Page;
let outside: string;

const runInfo = () => page.evaluate<{ active: string | null; last: string | null }>('window.__forge.run()');

const shots = (name: string) => shotsAtBothSizes(page, name, 'tb-settings');

describe.skipIf(!chromiumAvailable())(`granted folders e2e (Chromium at ${CHROMIUM})`, () => {
  beforeAll(async () => {
    outside = mkdtempSync(join(tmpdir(), 'forge-e2e-granted-'));
    served = await serve((ws) => {
      mkdirSync(join(ws, 'data'));
      writeFileSync(join(ws, 'data', 'input.jsonl'), ['alpha', 'beta', 'gamma'].map((t, i) => JSON.stringify({ id: i, text: `${t} record` })).join('\n') + '\n');
      mkdirSync(join(ws, 'graphs'));
      const doc = {
        format: 'forge-graph',
        version: 2,
        name: 'From a stranger',
        seed: 1,
        nodes: [
          { id: 'src', type: 'source.jsonl', params: { path: '../data/input.jsonl', textField: 'text' }, position: { x: 0, y: 0 } },
          { id: 'out', type: 'sink.write', params: { path: join(outside, 'export.jsonl') }, position: { x: 360, y: 0 } },
        ],
        edges: [{ from: { node: 'src', port: 'out' }, to: { node: 'out', port: 'in' } }],
      };
      writeFileSync(join(ws, 'graphs', 'stranger.forge.json'), JSON.stringify(doc, null, 2));
    });
    let errors: string[];
    ({ browser, page, errors } = await openApp(served));
    expect(errors).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
    if (outside) rmSync(outside, { recursive: true, force: true });
  });

  it('opens a graph writing outside the workspace: marked untrusted, Run asks for trust, nothing runs when declined', async () => {
    await page.getByTestId('tb-file.open').click();
    await page.getByTestId('open-item').filter({ hasText: 'graphs/stranger.forge.json' }).click();
    await expect.poll(() => page.getByTestId('untrusted').isVisible()).toBe(true);
    await page.getByTestId('run-all').click();
    await page.getByTestId('trust-dialog').waitFor();
    expect(await page.getByTestId('trust-notes').textContent()).toContain(`${realpathSync(outside)}/export.jsonl`);
    await shots('granted-01-refused');
    await page.getByTestId('trust-cancel').click();
    expect(await api<RunRow[]>(served, '/api/runs')).toEqual([]);
    expect(existsSync(join(outside, 'export.jsonl'))).toBe(false);
  });

  it('Settings lists granted folders and refuses a path that is not a folder, naming it', async () => {
    await page.getByTestId('tb-settings').click();
    await page.getByTestId('settings-dialog').waitFor();
    await page.getByTestId('granted-empty').waitFor();
    await page.getByTestId('granted-input').fill('/no/such/folder');
    await page.getByTestId('granted-add').click();
    await expect.poll(() => page.getByTestId('granted-error').textContent()).toContain('/no/such/folder does not exist');
    await page.getByTestId('granted-input').fill(outside);
    await page.getByTestId('granted-add').click();
    await expect.poll(() => page.getByTestId('granted-item').count()).toBe(1);
    expect(await page.getByTestId('granted-item').textContent()).toContain(outside);
    expect(await page.getByTestId('granted-error').count()).toBe(0);
    await shots('granted-02-settings');
    expect(await api<{ grantedFolders: string[] }>(served, '/api/settings')).toMatchObject({ grantedFolders: [outside] });
  });

  it('the previously refused graph now runs without trust, and provenance records the grant', async () => {
    await page.getByRole('dialog', { name: 'Settings' }).getByLabel('Close').click();
    await page.getByTestId('settings-dialog').waitFor({ state: 'detached' });
    const before = (await runInfo()).last;
    await page.getByTestId('run-all').click();
    await expect.poll(async () => (await runInfo()).last, { timeout: 120_000, interval: 200 }).not.toBe(before);
    expect(await page.getByTestId('trust-dialog').count()).toBe(0);
    const runId = (await runInfo()).last as string;
    const run = await api<RunDetail>(served, `/api/runs/${runId}`);
    expect(run.status).toBe('succeeded');
    expect(run.environment?.grantedFolders).toEqual([realpathSync(outside)]);
    expect(existsSync(join(outside, 'export.jsonl'))).toBe(true);
    await expect.poll(() => page.getByTestId('node-out').getAttribute('data-state')).toBe('done');
    await shots('granted-03-ran');
  });
});
