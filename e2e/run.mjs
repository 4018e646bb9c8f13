#!/usr/bin/env node
// `npm run test:e2e`: builds the UI if any of its sources is newer than renderer/dist, then runs
// the e2e suite (vitest, e2e/vitest.config.ts) and prints one clear pass/fail summary line.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = (name) => join(root, 'node_modules', '.bin', name);

function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const e of readdirSync(path)) if (!e.endsWith('.test.ts')) m = Math.max(m, newest(join(path, e)));
  return m;
}

const built = join(root, 'renderer', 'dist', 'index.html');
const sources = Math.max(newest(join(root, 'renderer', 'src')), newest(join(root, 'renderer', 'index.html')), newest(join(root, 'renderer', 'vite.config.ts')));
if (!existsSync(built) || statSync(built).mtimeMs < sources || process.argv.includes('--build')) {
  process.stdout.write('e2e: building the UI (renderer/dist is missing or older than its sources)…\n');
  const b = spawnSync(bin('vite'), ['build', '-c', 'renderer/vite.config.ts', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) {
    process.stdout.write('e2e: FAIL — the UI build failed\n');
    process.exit(1);
  }
}

const args = ['run', '--config', 'e2e/vitest.config.ts', ...process.argv.slice(2).filter((a) => a !== '--build')];
const r = spawnSync(bin('vitest'), args, { cwd: root, stdio: 'inherit', env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? '1' } });

let summary = '';
try {
  const res = JSON.parse(readFileSync(join(root, 'test-results', 'e2e', 'results.json'), 'utf8'));
  summary = `${res.numPassedTests} passed, ${res.numFailedTests} failed, ${res.numPendingTests + (res.numTodoTests ?? 0)} skipped (of ${res.numTotalTests})`;
} catch {
  summary = 'no results file';
}
const ok = r.status === 0;
process.stdout.write(`\ne2e: ${ok ? 'PASS' : 'FAIL'} — ${summary}. Screenshots: test-results/e2e/\n`);
process.exit(r.status ?? 1);
