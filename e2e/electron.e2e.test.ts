// The desktop shell, driven by Playwright's Electron support. Runs wherever the Electron binary is
// installed; elsewhere it is skipped with the reason printed.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron as electron } from 'playwright-core';
import { describe, expect, it } from 'vitest';
// @ts-expect-error — a plain .mjs helper shared with `npm start`
import { electronBinary } from '../electron/launch.mjs';
import { REPO, shot } from './harness.js';

const bin = electronBinary() as { path?: string; reason?: string };
const main = join(REPO, 'electron', 'dist', 'main.js');
const reason = !bin.path ? bin.reason : !existsSync(main) ? 'electron/dist/main.js is not built (npm run build:electron)' : null;
if (reason) process.stdout.write(`\n[electron e2e] SKIPPED: ${reason}. Install the Electron binary to run the desktop test.\n\n`);

describe.skipIf(reason !== null)(`desktop app (Electron)${reason ? ` — skipped: ${reason}` : ''}`, () => {
  it('opens a window with the canvas, its engine running in another process', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'forge-electron-'));
    const app = await electron.launch({ executablePath: bin.path as string, args: [main, '--workspace', workspace, '--no-sandbox'], env: { ...process.env, ELECTRON_ENABLE_LOGGING: '1' } });
    try {
      const win = await app.firstWindow();
      await win.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
      expect(await win.locator('.palette-item').count()).toBeGreaterThan(0);
      // The renderer is sandboxed: no Node, only the typed bridge.
      expect(await win.evaluate('typeof require')).toBe('undefined');
      expect(await win.evaluate('typeof window.forgeDesktop.saveFile')).toBe('function');
      const rendererPid = await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]?.webContents.getOSProcessId());
      expect(rendererPid).toBeGreaterThan(0);
      await shot(win, 'electron-window');
    } finally {
      await app.close();
      rmSync(workspace, { recursive: true, force: true });
    }
  });
});
