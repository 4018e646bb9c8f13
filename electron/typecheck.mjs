#!/usr/bin/env node
// Type-checks the desktop shell against Electron's own declarations. electron is an optional
// dependency whose install downloads a binary; where that download is impossible the package is
// absent and there are no declarations to check against, so this says so instead of failing.
// `ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci` installs the package (and its types) without the binary.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
if (!existsSync(join(root, 'node_modules', 'electron', 'electron.d.ts'))) {
  process.stdout.write(
    'typecheck: electron/ NOT checked — the electron package is not installed (optional dependency; its binary download failed or was skipped).\n' +
      '           Install it with ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci to check the desktop shell without the binary.\n',
  );
  process.exit(0);
}
const r = spawnSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'electron/tsconfig.json', '--noEmit'], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
