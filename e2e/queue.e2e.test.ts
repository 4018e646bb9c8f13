// Issue 11, the app side of distributed runs: the run setting picks a Redis queue, the Workers view
// lists the connected `forge worker`, and a run from the canvas executes on that worker. Real
// redis-server on a free loopback port, real `forge serve` and `forge worker`, real Chromium;
// screenshots at 1600x1000 and 1280x800 in test-results/e2e/.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail } from '../engine/provenance/queries.js';
import { freePort } from '../engine/test/queue-harness.js';
import { api, chromiumAvailable, CHROMIUM, openApp, REPO, serve, type Served } from './harness.js';
import { shotsAtBothSizes } from './app-checks.js';

const REDIS = '/usr/bin/redis-server';

let served: Served;
let browser: Browser;
let page: Page;
let redis: ChildProcess | undefined;
let worker: ChildProcess | undefined;
let queueUrl = '';
const workerLog: string[] = [];

const runInfo = () => page.evaluate<{ active: string | null; last: string | null }>('window.__forge.run()');

const shots = (name: string) => shotsAtBothSizes(page, name, 'run-target');

describe.skipIf(!chromiumAvailable() || !existsSync(REDIS))(`queue run setting e2e (Chromium at ${CHROMIUM})`, () => {
  beforeAll(async () => {
    const port = await freePort();
    redis = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    queueUrl = `redis://127.0.0.1:${port}`;
    served = await serve((ws) => {
      writeFileSync(join(ws, 'docs.jsonl'), Array.from({ length: 200 }, (_, i) => JSON.stringify({ id: i, text: `document ${i} `.repeat(1 + (i % 7)) })).join('\n') + '\n');
      mkdirSync(join(ws, '.forge'), { recursive: true });
      const doc = {
        format: 'forge-graph',
        version: 2,
        name: 'On the queue',
        seed: 1,
        nodes: [
          { id: 'src', type: 'source.jsonl', params: { path: 'docs.jsonl', textField: 'text' }, position: { x: 0, y: 0 } },
          { id: 'long', type: 'transform.filter', params: { where: 'length(text) > 40' }, position: { x: 360, y: 0 } },
        ],
        edges: [{ from: { node: 'src', port: 'out' }, to: { node: 'long', port: 'in' } }],
      };
      writeFileSync(join(ws, 'queue.forge.json'), JSON.stringify(doc, null, 2));
    });
    // The worker mounts the workspace's store, as a worker on another machine would through NFS.
    worker = spawn(process.execPath, [join(REPO, 'bin', 'forge.cjs'), 'worker', '--queue', queueUrl, '--store', join(served.workspace, '.forge')], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
    worker.stderr?.on('data', (d: Buffer) => workerLog.push(d.toString()));
    let errors: string[];
    ({ browser, page, errors } = await openApp(served));
    expect(errors).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    worker?.kill('SIGKILL');
    redis?.kill('SIGKILL');
    await served?.stop();
  });

  it('the run setting is Local by default; choosing the queue lists the connected worker', async () => {
    await page.getByTestId('tb-file.open').click();
    await page.getByTestId('open-item').filter({ hasText: 'queue.forge.json' }).click();
    expect(await page.getByTestId('run-target').textContent()).toContain('Local');
    await page.getByTestId('run-target').click();
    await page.getByTestId('run-target-pop').waitFor();
    expect(await page.getByTestId('rt-local').isChecked()).toBe(true);
    await page.getByTestId('rt-queue').check();
    await page.getByTestId('rt-url').fill('http://127.0.0.1:1');
    expect(await page.getByTestId('rt-use').isDisabled()).toBe(true);
    await page.getByTestId('rt-url').fill(queueUrl);
    await page.getByTestId('rt-use').click();
    expect(await page.getByTestId('run-target').textContent()).toContain('Queue');
    // The worker's heartbeat: host, pid, idle.
    await expect.poll(() => page.getByTestId('rt-worker').count(), { timeout: 120_000, interval: 250 }).toBe(1);
    const row = (await page.getByTestId('rt-worker').textContent()) ?? '';
    expect(row).toContain(`pid ${worker?.pid}`);
    expect(row).toContain('idle');
    await shots('queue-01-workers');
  });

  it('a run from the canvas executes on the worker and finishes', async () => {
    await page.keyboard.press('Escape');
    await page.getByTestId('run-target-pop').waitFor({ state: 'detached' });
    const before = (await runInfo()).last;
    await page.getByTestId('run-all').click();
    // An opened graph with SQL asks for trust before it runs, on the queue as locally.
    await page.getByTestId('trust-dialog').waitFor();
    await page.getByTestId('trust-confirm').click();
    await expect.poll(async () => (await runInfo()).last, { timeout: 180_000, interval: 250 }).not.toBe(before);
    const runId = (await runInfo()).last as string;
    const run = await api<RunDetail>(served, `/api/runs/${runId}`);
    expect(run.status).toBe('succeeded');
    // Both units went through the queue: the worker logged each.
    expect(workerLog.join('')).toContain('✔ src job');
    expect(workerLog.join('')).toContain('✔ long job');
    await expect.poll(() => page.getByTestId('node-long').getAttribute('data-state')).toBe('done');
    await page.getByTestId('run-target').click();
    await page.getByTestId('rt-worker').waitFor();
    await shots('queue-02-ran');
  });

  it('the engine refuses a queue address that is not redis:// and one it cannot reach, naming it', async () => {
    const post = (queue: string) =>
      fetch(`${served.origin}/api/runs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${served.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ doc: { format: 'forge-graph', version: 2, seed: 1, nodes: [], edges: [] }, queue }),
      });
    const bad = await post('http://127.0.0.1:6379');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('queue: the queue is a redis://host:port address');
    const port = await freePort();
    const down = await post(`redis://127.0.0.1:${port}`);
    expect(down.status).toBe(400);
    expect(((await down.json()) as { error: string }).error).toContain(`cannot reach Redis at redis://127.0.0.1:${port}`);
  });
});
