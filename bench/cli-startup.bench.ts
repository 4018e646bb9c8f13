// CLI start-up: wall time of `forge --help`, `forge runs` and `forge nodes` as child processes,
// this checkout against a baseline checkout (e.g. the commit before the composition root moved out
// of engine/), alternating runs so machine load hits both alike. Median of N runs each.
//   node bin/bench.mjs bench/cli-startup.bench.ts --baseline /path/to/other/checkout [--runs 9]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, intOption, log, machine, machineLine, markdownTable, median, option, writeSection } from './lib/report.js';

const HERE = resolve(fileURLToPath(new URL('..', import.meta.url)));
const baseline = option('baseline');
const runs = intOption('runs', 'FORGE_BENCH_RUNS', 9);
// `--commands help,runs` limits the set (a loaded machine makes `nodes`, which loads every node type, slow).
const commands = (option('commands') ?? 'help,runs,nodes').split(',').map((c) => (c === 'help' ? ['--help'] : [c]));
// One empty workspace per checkout: `forge runs` needs a .forge folder, and each side's provenance
// schema is its own (an older checkout refuses a newer database).
const workspaces = new Map<string, string>();
function workspaceOf(repo: string): string {
  let ws = workspaces.get(repo);
  if (!ws) {
    ws = mkdtempSync(join(tmpdir(), 'forge-cli-bench-'));
    mkdirSync(join(ws, '.forge'));
    workspaces.set(repo, ws);
  }
  return ws;
}

function timeOnce(repo: string, args: string[]): number {
  const workspace = workspaceOf(repo);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(repo, 'bin/forge.cjs'), ...args, '-w', workspace], { cwd: workspace, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`forge ${args.join(' ')} in ${repo} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const started = performance.now();
const rows: string[][] = [];
for (const args of commands) {
  const mine: number[] = [];
  const base: number[] = [];
  timeOnce(HERE, args); // warm the file cache and tsx's transform cache once per side
  if (baseline) timeOnce(baseline, args);
  for (let i = 0; i < runs; i++) {
    mine.push(timeOnce(HERE, args));
    if (baseline) base.push(timeOnce(baseline, args));
  }
  const label = `\`forge ${args.join(' ')}\``;
  const m = median(mine);
  if (baseline) {
    const b = median(base);
    rows.push([label, `${fmt(b, 0)} ms`, `${fmt(m, 0)} ms`, `${fmt(m / b, 2)}×`]);
  } else rows.push([label, '-', `${fmt(m, 0)} ms`, '-']);
  log(`${label}: ${rows[rows.length - 1]?.slice(1).join(' / ')}`);
}

const body = `## CLI start-up

${machineLine(machine(), `median of ${runs} runs per command and side, alternating; whole bench took ${fmt((performance.now() - started) / 60_000, 1)} min`)}

Wall time of the \`forge\` process (tsx loader included), empty workspace. Baseline: the checkout
before the registry moved to the composition root (every command imported all node types, and with
them onnxruntime, usearch and tokenizers); now only commands that need node types (\`run\`, \`plan\`,
\`validate\`, \`export\`, \`nodes\`, \`serve\`) load them. \`engine/test/cli-startup.test.ts\` checks that
\`--help\` and \`runs\` load none of the ML libraries.

${markdownTable(['command', 'baseline', 'this checkout', 'ratio'], rows)}
`;
writeSection('cli-startup', body);
log('wrote bench/RESULTS.md section cli-startup');
