#!/usr/bin/env node
// `npm start`: launches the desktop shell, or says clearly why it cannot (the Electron binary is
// downloaded by electron's postinstall, which offline/CI installs skip).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export function electronBinary() {
  try {
    const p = require('electron');
    return typeof p === 'string' && existsSync(p) ? { path: p } : { reason: `the Electron binary is missing (${p})` };
  } catch (err) {
    const msg = /** @type {Error} */ (err).message;
    return { reason: /Cannot find module/.test(msg) ? 'the electron package is not installed (it is an optional dependency)' : `the Electron binary was not downloaded (${msg.split('\n')[0]})` };
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const bin = electronBinary();
  if (!bin.path) {
    process.stderr.write(
      `Cannot start the desktop app: ${bin.reason}.\n` +
        '  • With internet access: node node_modules/electron/install.js (or reinstall without ELECTRON_SKIP_BINARY_DOWNLOAD).\n' +
        '  • Or use the same UI in a browser: npx forge serve  (then open the printed URL).\n',
    );
    process.exit(1);
  }
  const main = join(here, 'dist', 'main.js');
  if (!existsSync(main)) {
    process.stderr.write('electron/dist/main.js is missing: run npm run build:electron first.\n');
    process.exit(1);
  }
  const child = spawn(bin.path, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
}
