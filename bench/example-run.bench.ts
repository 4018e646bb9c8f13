// `npm run bench:example`: the README's main command, timed as a user runs it. Each repetition
// copies resources/ into a fresh temporary project, runs the Hephaestus-Forge example through the
// CLI cold (nothing cached), then three more times warm (everything cached). The baseline in the
// same run is the CLI's own start-up (`forge validate` on the same graph: load tsx, the node
// registry and the workspace, no execution), so the warm figure reads as "start-up + cache checks".
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, machine, machineLine, median, option, REPO_ROOT, writeSection } from './lib/report.js';

const GRAPH = 'resources/examples/hephaestus-forge.forge.json';
const FORGE = join(REPO_ROOT, 'bin', 'forge.cjs');
const reps = Number(option('reps') ?? 3);
const warmPerRep = 3;

interface Timed {
  wallMs: number;
  runMs: number | null;
  executed: number;
  cached: number;
}

function forge(project: string, args: string[]): Timed {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [FORGE, ...args, '-w', project], { cwd: project, encoding: 'utf8', maxBuffer: 64 << 20 });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`forge ${args.join(' ')} exited ${r.status}:\n${r.stderr.slice(-4000)}`);
  if (args[0] !== 'run') return { wallMs, runMs: null, executed: 0, cached: 0 };
  const summary = JSON.parse(r.stdout) as { durationMs: number; nodes: { state: string }[] };
  return {
    wallMs,
    runMs: summary.durationMs,
    executed: summary.nodes.filter((n) => n.state === 'executed').length,
    cached: summary.nodes.filter((n) => n.state === 'cached').length,
  };
}

const startup: number[] = [];
const cold: Timed[] = [];
const warm: Timed[] = [];
for (let i = 0; i < reps; i++) {
  const project = mkdtempSync(join(tmpdir(), 'forge-bench-example-'));
  try {
    cpSync(join(REPO_ROOT, 'resources'), join(project, 'resources'), { recursive: true });
    startup.push(forge(project, ['validate', GRAPH]).wallMs);
    const c = forge(project, ['run', GRAPH, '-q', '--json']);
    cold.push(c);
    process.stdout.write(`rep ${i + 1}: cold ${fmt(c.wallMs / 1000, 1)} s (${c.executed} executions)`);
    for (let w = 0; w < warmPerRep; w++) {
      const h = forge(project, ['run', GRAPH, '-q', '--json']);
      if (h.executed !== 0) throw new Error(`warm run executed ${h.executed} nodes; expected all cached`);
      warm.push(h);
      process.stdout.write(`, warm ${fmt(h.wallMs / 1000, 2)} s`);
    }
    process.stdout.write('\n');
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
}

const m = machine();
const med = (xs: number[]) => median(xs);
const startupMs = med(startup);
const coldWall = med(cold.map((c) => c.wallMs));
const warmWall = med(warm.map((w) => w.wallMs));
const coldRun = med(cold.map((c) => c.runMs ?? 0));
const warmRun = med(warm.map((w) => w.runMs ?? 0));
const goal = (ok: boolean) => (ok ? '✅ met' : '❌ missed');

const body = `## Example pipeline: cold and warm (issue 5)

${machineLine(m, `${reps} fresh projects, each 1 cold run + ${warmPerRep} warm runs; \`npm run bench:example\``)}

\`npx forge run ${GRAPH}\` as the README runs it (a child process per run, \`-q --json\`): ${cold[0]?.executed ?? '?'} node
executions cold (25 graph nodes, 10 sweep variants of the 3 nodes under the mixer sweep), every one
a cache hit warm. Wall time is process start to exit; "in-engine" is the run's own duration
(validation, cache lookups, execution, provenance), without Node/tsx start-up.

| measurement | wall (median) | in-engine (median) | samples | vs CLI start-up | goal |
| --- | --- | --- | --- | --- | --- |
| CLI start-up baseline (\`forge validate\`, same graph) | ${fmt(startupMs / 1000, 2)} s | – | ${startup.length} | 1.00× |  |
| cold run (fresh workspace) | ${fmt(coldWall / 1000, 1)} s | ${fmt(coldRun / 1000, 1)} s | ${cold.length} | ${fmt(coldWall / startupMs, 1)}× | < 5 min: ${goal(coldWall < 300_000)} |
| warm run (all cached) | ${fmt(warmWall / 1000, 2)} s | ${fmt(warmRun, 0)} ms | ${warm.length} | ${fmt(warmWall / startupMs, 2)}× | < 2 s: ${goal(warmWall < 2000)} |

Per sample: cold ${cold.map((c) => `${fmt(c.wallMs / 1000, 1)} s`).join(', ')}; warm ${warm.map((w) => `${fmt(w.wallMs / 1000, 2)} s`).join(', ')}.
`;
writeSection('example-run', body);
process.stdout.write(`\n${body}`);
