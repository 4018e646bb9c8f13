// Shard-level resume: a 40-shard transform.filter run by the CLI is SIGKILLed once about half of its
// shards are in the shard cache, then rerun; the rerun's log says how many shards it executed and how
// many it reused. Also times an uninterrupted run and the resumed run, and checks the resumed output
// hashes equal the uninterrupted run's. Median of N kills.
//   node bin/bench.mjs bench/shard-resume.bench.ts [--rows-per-shard 5000] [--runs 3]
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARD_CACHE_DIR } from '../engine/exec/shards/shard-cache.js';
import { fmt, intOption, log, machine, machineLine, markdownTable, median, REPO_ROOT, writeSection } from './lib/report.js';

const SHARDS = 40;
const perShard = intOption('rows-per-shard', 'FORGE_BENCH_RESUME_ROWS', 5000);
const runs = intOption('runs', 'FORGE_BENCH_RUNS', 3);
const dir = mkdtempSync(join(tmpdir(), 'forge-resume-bench-'));
const CLI = join(REPO_ROOT, 'bin/forge.cjs');
const env = { ...process.env, FORGE_SHARD_ROWS: String(perShard) };

const graph = {
  format: 'forge-graph',
  version: 3,
  seed: 1,
  nodes: [
    { id: 'load', type: 'source.jsonl', params: { path: 'pool.jsonl', idField: 'id' } },
    { id: 'keep', type: 'transform.filter', params: { where: "score > 0.3 AND md5(repeat(text, 20)) <> ''" } },
  ],
  edges: [{ from: { node: 'load', port: 'out' }, to: { node: 'keep', port: 'in' } }],
};

const cachedFiles = (ws: string) => {
  const d = join(ws, '.forge', SHARD_CACHE_DIR);
  return existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.parquet')).length : 0;
};

function cli(args: string[]): { stdout: string; seconds: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`forge ${args[0]} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return { stdout: r.stdout, seconds: (performance.now() - t0) / 1000 };
}

interface Run {
  seconds: number;
  executed: number;
  reused: number;
  keepSeconds: number;
  hashes: string[];
}

/** Runs the graph and reads the filter's shard log line and output hashes from the run record. */
function run(ws: string): Run {
  const r = cli(['run', join(dir, 'g.forge.json'), '-w', ws, '-q', '--json']);
  const summary = JSON.parse(r.stdout) as { runId: string; nodes: { nodeId: string; durationMs: number; outputs: { port: string; hash: string }[] }[] };
  const keep = summary.nodes.find((n) => n.nodeId === 'keep');
  const shown = cli(['show', summary.runId, '-w', ws]).stdout;
  const m = /shards: (\d+) of (\d+) executed(?:, (\d+) reused)?/.exec(shown);
  if (!m || Number(m[2]) !== SHARDS) throw new Error(`no shard log line for ${SHARDS} shards in:\n${shown}`);
  return { seconds: r.seconds, executed: Number(m[1]), reused: Number(m[3] ?? 0), keepSeconds: (keep?.durationMs ?? 0) / 1000, hashes: (keep?.outputs ?? []).map((o) => `${o.port}=${o.hash}`) };
}

/** Starts a run and SIGKILLs it once `atFiles` shard files of the filter are cached; resolves with the files cached at the kill. */
function killAt(ws: string, atFiles: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'run', join(dir, 'g.forge.json'), '-w', ws, '-q'], { stdio: 'ignore', env });
    const poll = setInterval(() => {
      if (cachedFiles(ws) >= atFiles) {
        clearInterval(poll);
        child.kill('SIGKILL');
      }
    }, 5);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      if (signal === 'SIGKILL') resolve(cachedFiles(ws));
      else reject(new Error(`the run finished (code ${code}) before it could be killed; use more rows per shard`));
    });
  });
}

const started = performance.now();
const out = createWriteStream(join(dir, 'pool.jsonl'));
for (let i = 0; i < SHARDS * perShard; i++) {
  const text = `document ${i} about tools, agents and function calls `.repeat(4 + (i % 5));
  out.write(`${JSON.stringify({ id: `d${i}`, text, score: ((i * 7919) % 1000) / 1000 })}\n`);
}
await new Promise<void>((r) => out.end(r));
writeFileSync(join(dir, 'g.forge.json'), JSON.stringify(graph));

const full: Run[] = [];
const resumed: (Run & { cachedAtKill: number })[] = [];
for (let i = 0; i < runs; i++) {
  full.push(run(join(dir, `ws-full-${i}`)));
  const ws = join(dir, `ws-killed-${i}`);
  // Two files (kept, rejected) per input shard: SHARDS files is half of the node.
  const cachedAtKill = await killAt(ws, SHARDS);
  resumed.push({ ...run(ws), cachedAtKill });
  const f = full[i] as Run;
  const r = resumed[i] as Run & { cachedAtKill: number };
  if (r.hashes.join() !== f.hashes.join()) throw new Error(`resumed output ${r.hashes.join()} differs from the uninterrupted run's ${f.hashes.join()}`);
  log(`run ${i + 1}: full filter ${fmt(f.keepSeconds)} s; killed with ${cachedAtKill} files cached; rerun executed ${r.executed}/${SHARDS}, reused ${r.reused}, filter ${fmt(r.keepSeconds)} s`);
}

const executedPct = median(resumed.map((r) => (100 * r.executed) / SHARDS));
const rows = resumed.map((r, i) => [
  String(i + 1),
  `${r.cachedAtKill} of ${2 * SHARDS} (${fmt((50 * r.cachedAtKill) / SHARDS, 0)} %)`,
  `${r.executed} / ${r.reused}`,
  `${fmt((100 * r.executed) / SHARDS, 1)} %`,
  `${fmt(full[i]?.keepSeconds ?? 0, 1)} s`,
  `${fmt(r.keepSeconds, 1)} s`,
  'identical',
]);
const body = `## Shard-level resume (issue 11)

${machineLine(machine(), `${runs} kills; whole bench took ${fmt((performance.now() - started) / 60_000, 1)} min`)}

\`npm run bench:shard-resume\`: \`source.jsonl\` → \`transform.filter\` over ${SHARDS} shards of ${perShard.toLocaleString('en-US')} rows, run by the CLI
and SIGKILLed once ${SHARDS} of the filter's ${2 * SHARDS} shard files (kept + rejected per input shard) are in the shard cache, i.e. about
half of the node; then the same graph is run again in the same workspace. Goal: the rerun executes ≤ 55 % of the shards.

${markdownTable(['kill', 'shard files cached at the kill', 'rerun: executed / reused shards', 'executed on rerun', 'filter, uninterrupted run', 'filter, rerun', 'output hashes vs uninterrupted'], rows)}

Median executed on rerun: **${fmt(executedPct, 1)} %** of the shards (goal ≤ 55 %: ${executedPct <= 55 ? 'met' : 'not met'}). A shard is reused only when
both of its files are cached; the writers in flight at the kill leave at most one unfinished shard each.
`;
writeSection('shard-resume', body);
log('wrote bench/RESULTS.md section shard-resume');
rmSync(dir, { recursive: true, force: true });
