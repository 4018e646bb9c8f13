import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const REPO = dirname(dirname(fileURLToPath(import.meta.url)));
export const RESULTS = join(REPO, 'test-results', 'e2e');
export const CHROMIUM = process.env.FORGE_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Served {
  url: string;
  origin: string;
  token: string;
  workspace: string;
  stop(): Promise<void>;
}

/** `forge serve` on a fresh temporary workspace, exactly as a user starts it. */
export async function serve(prepare?: (workspace: string) => void): Promise<Served> {
  const workspace = mkdtempSync(join(tmpdir(), 'forge-e2e-'));
  prepare?.(workspace);
  const child: ChildProcess = spawn(process.execPath, [join(REPO, 'bin', 'forge.cjs'), 'serve', '-w', workspace], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`forge serve did not start in 60 s:\n${out}`)), 60_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = out.match(/open (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`forge serve exited (${code}):\n${out}`)));
  });
  const u = new URL(url);
  return {
    url,
    origin: u.origin,
    token: u.searchParams.get('token') as string,
    workspace,
    stop: async () => {
      child.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 300));
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(workspace, { recursive: true, force: true });
    },
  };
}

export async function api<T>(s: Served, path: string): Promise<T> {
  const res = await fetch(`${s.origin}${path}`, { headers: { authorization: `Bearer ${s.token}` } });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

export async function launch(): Promise<{ browser: Browser; context: BrowserContext; page: Page }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, acceptDownloads: true, colorScheme: 'dark' });
  const page = await context.newPage();
  return { browser, context, page };
}

/**
 * Chromium on the served app, optionally opening a graph file (relative to the workspace), once the
 * UI says it is ready. `errors` collects uncaught page errors for the whole session: tests expect none.
 */
export async function openApp(s: Served, opts: { file?: string; acceptDialogs?: boolean } = {}): Promise<{ browser: Browser; context: BrowserContext; page: Page; errors: string[] }> {
  const { browser, context, page } = await launch();
  if (opts.acceptDialogs) page.on('dialog', (d) => void d.accept());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(opts.file ? `${s.url}&file=${encodeURIComponent(opts.file)}` : s.url);
  await page.waitForSelector('body[data-ready="true"]');
  return { browser, context, page, errors };
}

/** Drags the mouse from the centre of box `a` to the centre of box `b` in steps, as a user draws an edge. */
export async function dragBetween(page: Page, a: Box, b: Box): Promise<void> {
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2 + 20, { steps: 8 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 8 });
  await page.mouse.up();
}

/**
 * Clicks a node's head and waits until the inspector shows that node. A click aimed while the canvas
 * reframes (a loaded document is fitted to the view on a timer, which a busy machine delays) can land
 * beside the node and select nothing; such a click is retried, a few times at most, before failing.
 */
export async function selectNode(page: Page, id: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await page.locator(`.react-flow__node[data-id="${id}"] .fnode-head`).click();
    try {
      await page.locator('.insp-head .mono', { hasText: id }).first().waitFor({ timeout: 10_000 });
      return;
    } catch (e) {
      if (attempt >= 3) throw new Error(`clicking node ${id} did not select it in ${attempt} tries: ${String(e)}`);
    }
  }
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

let shotSeq = 0;
/** Saves a numbered screenshot of the whole window as a test artefact. */
export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `${String(++shotSeq).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/**
 * `forge serve` on a fresh workspace (see `serve`) with the app open in Chromium and ready, browser
 * dialogs accepted; `close` ends both.
 */
export async function serveAndOpenApp(
  prepare?: (workspace: string) => void,
): Promise<{ served: Served; browser: Browser; context: BrowserContext; page: Page; errors: string[]; close(): Promise<void> }> {
  const served = await serve(prepare);
  const { browser, context, page, errors } = await openApp(served, { acceptDialogs: true });
  return {
    served,
    browser,
    context,
    page,
    errors,
    close: async () => {
      await browser.close();
      await served.stop();
    },
  };
}
