// What running through a Redis queue costs on one machine: the same cold pipeline over a generated
// web-like pool (load → filter → classifier-score → threshold → near-dedup → write, the classifier
// trained on API-like seeds vs general pages) run (a) locally and (b) with `--queue` against a private
// redis-server and two `forge worker` processes on this machine sharing the workspace's store.
// Median of `--runs` cold runs per mode, alternating the modes so load from other work hits all; at the
// default shard size and at a finer one.
//   node bin/bench.mjs bench/queue-overhead.bench.ts [--docs 200000] [--seeds 2000] [--runs 3] [--small-shards 16384]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeOutcome, RunSummary } from '../engine/exec/events.js';
import { listWorkers } from '../engine/exec/queue/queue-executor.js';
import { checkRedis } from '../engine/exec/queue/redis.js';
import { freePort, sleep } from '../engine/test/queue-harness.js';
import { DEFAULT_SHARD_ROWS } from '../engine/sdk/dataset.js';
import { fmt, intOption, log, machine, machineLine, markdownTable, median, mib, option, REPO_ROOT, writeSection } from './lib/report.js';
import { graph } from '../nodes/_sdk/testing/graph.js';
import { writeWebPool } from './lib/web-pool.js';

const docs = intOption('docs', 'FORGE_BENCH_QUEUE_DOCS', 200_000);
const seeds = intOption('seeds', 'FORGE_BENCH_QUEUE_SEEDS', 2000);
const runs = intOption('runs', 'FORGE_BENCH_QUEUE_RUNS', 3);
/** The default shard size, then a finer one (0: skip it). */
const small = Number(option('small-shards') ?? 16_384);
const shardSizes = [DEFAULT_SHARD_ROWS, ...(Number.isInteger(small) && small > 0 ? [small] : [])];
const WORKERS = 2;
const CLI = join(REPO_ROOT, 'bin/forge.cjs');
const REDIS = '/usr/bin/redis-server';
const dir = mkdtempSync(join(tmpdir(), 'forge-queue-bench-'));
const children: ChildProcess[] = [];

const STAGES = ['load', 'filter', 'score', 'keep', 'dedup', 'write'] as const;

function writeGraph(): string {
  const g = graph(
    [
      { id: 'load', type: 'source.jsonl', params: { path: 'pool.jsonl' } },
      { id: 'seeds', type: 'source.jsonl', params: { path: 'seeds.jsonl' } },
      { id: 'general', type: 'source.jsonl', params: { path: 'general.jsonl' } },
      { id: 'filter', type: 'transform.filter', params: { where: 'length(text) > 200' } },
      { id: 'classifier', type: 'ml.classifier-train', params: { positiveLabel: 'agent', negativeLabel: 'general', dim: 50, epoch: 5, wordNgrams: 2, threads: 1 } },
      { id: 'score', type: 'ml.classifier-score', params: { positiveLabel: 'agent', scoreColumn: 'agent_score' } },
      { id: 'keep', type: 'ml.threshold', params: { scoreColumn: 'agent_score', threshold: 0.5 } },
      { id: 'dedup', type: 'transform.dedup-near', params: { ngram: 5, bands: 16, rows: 8, threshold: 0.8 } },
      { id: 'write', type: 'sink.write', params: { path: 'out.jsonl', format: 'jsonl' } },
    ],
    [
      ['load.out', 'filter.in'],
      ['seeds.out', 'classifier.positives'],
      ['general.out', 'classifier.negatives'],
      ['classifier.model', 'score.model'],
      ['filter.out', 'score.in'],
      ['score.out', 'keep.in'],
      ['keep.kept', 'dedup.in'],
      ['dedup.out', 'write.in'],
    ],
    1,
  );
  const file = join(dir, 'queue-overhead.forge.json');
  writeFileSync(file, JSON.stringify(g));
  return file;
}

interface Run {
  seconds: number;
  nodes: Map<string, NodeOutcome>;
}

/** One cold `forge run` in a fresh workspace (with `--queue url` when given); wall time from spawn to exit. */
function forgeRun(graphFile: string, ws: string, env: NodeJS.ProcessEnv, queue?: string): Run {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'run', graphFile, '-w', ws, '-q', '--json', ...(queue ? ['--queue', queue] : [])], { encoding: 'utf8', maxBuffer: 64 << 20, env });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`forge run${queue ? ' --queue' : ''} exited ${r.status}: ${r.stdout.slice(-3000)}${r.stderr.slice(-3000)}`);
  const summary = JSON.parse(r.stdout) as RunSummary;
  return { seconds, nodes: new Map(summary.nodes.map((x) => [x.nodeId, x])) };
}

async function startRedis(): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  children.push(proc);
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await checkRedis(url);
      return { url, proc };
    } catch (err) {
      if (i > 200) throw err;
      await sleep(100);
    }
  }
}

/**
 * A queue run: a fresh workspace whose store the workers mount, `WORKERS` workers connected before
 * the clock starts (long-lived in a real deployment, so their start-up is not the queue's cost), then
 * the timed `forge run --queue`; the workers are stopped afterwards.
 */
async function queueRun(graphFile: string, ws: string, env: NodeJS.ProcessEnv, url: string): Promise<Run> {
  mkdirSync(join(ws, '.forge'), { recursive: true });
  const init = spawnSync(process.execPath, [CLI, 'runs', '-w', ws], { encoding: 'utf8', env });
  if (init.status !== 0) throw new Error(`forge runs: ${init.stderr}`);
  const workers = Array.from({ length: WORKERS }, () => {
    const p = spawn(process.execPath, [CLI, 'worker', '--queue', url, '--store', join(ws, '.forge')], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let err = '';
    p.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    children.push(p);
    return { p, err: () => err };
  });
  try {
    for (let i = 0; (await listWorkers(url)).length < WORKERS; i++) {
      if (i > 1200) throw new Error(`workers did not connect:\n${workers.map((w) => w.err()).join('\n')}`);
      await sleep(100);
    }
    return forgeRun(graphFile, ws, env, url);
  } finally {
    for (const w of workers) w.p.kill('SIGTERM');
    await Promise.all(workers.map((w) => (w.p.exitCode === null && w.p.signalCode === null ? new Promise((r) => w.p.once('exit', r)) : undefined)));
  }
}

const started = performance.now();
const loads: number[] = [];
try {
  const poolBytes = await writeWebPool(join(dir, 'pool.jsonl'), docs, 'pool', 1);
  await writeWebPool(join(dir, 'seeds.jsonl'), seeds, 'seeds', 2);
  await writeWebPool(join(dir, 'general.jsonl'), seeds, 'general', 3);
  log(`generated ${docs} pool documents (${mib(poolBytes)})`);
  const graphFile = writeGraph();
  const { url } = await startRedis();
  // Coordinator and workers must cut shards alike; each size is its own pair of modes.
  const modes = shardSizes.flatMap((rows) => {
    const env = { ...process.env, FORGE_SHARD_ROWS: String(rows) };
    return [
      { rows, queue: false, env, runs: [] as Run[] },
      { rows, queue: true, env, runs: [] as Run[] },
    ];
  });
  for (let i = 0; i < runs; i++)
    for (const m of modes) {
      loads.push(loadavg()[0] ?? NaN);
      const ws = join(dir, `ws-${m.rows}-${m.queue ? 'queue' : 'local'}-${i}`);
      const r = m.queue ? await queueRun(graphFile, ws, m.env, url) : forgeRun(graphFile, ws, m.env);
      m.runs.push(r);
      log(`run ${i + 1}, ${m.rows}-row shards, ${m.queue ? 'queue' : 'local'}: ${fmt(r.seconds, 1)} s`);
      rmSync(ws, { recursive: true, force: true });
    }
  loads.push(loadavg()[0] ?? NaN);

  const hashes = (r: Run) => [...r.nodes.values()].flatMap((n) => n.outputs.map((o) => `${n.nodeId}.${o.port}=${o.hash}`)).sort();
  const same = (rs: Run[]) => rs.every((r) => JSON.stringify(hashes(r)) === JSON.stringify(hashes(rs[0] as Run)));
  const wall = (rs: Run[]) => median(rs.map((r) => r.seconds));
  const stage = (rs: Run[], s: string) => median(rs.map((r) => (r.nodes.get(s)?.durationMs ?? 0) / 1000));
  const pairs = shardSizes.map((rows) => {
    const [local, queued] = [false, true].map((q) => modes.find((m) => m.rows === rows && m.queue === q)?.runs ?? []) as [Run[], Run[]];
    return { rows, local, queued, ratio: wall(queued) / wall(local), shards: Math.ceil(docs / rows) };
  });
  const main = pairs[0] as (typeof pairs)[number];
  const rowsIn = (s: (typeof STAGES)[number]) => {
    const out = (id: string, port: string) => main.local[0]?.nodes.get(id)?.outputs.find((o) => o.port === port)?.rows ?? 0;
    const from: Record<(typeof STAGES)[number], [string, string]> = {
      load: ['load', 'out'],
      filter: ['load', 'out'],
      score: ['filter', 'out'],
      keep: ['score', 'out'],
      dedup: ['keep', 'kept'],
      write: ['dedup', 'out'],
    };
    return s === 'load' ? docs : out(...from[s]);
  };
  const runsCell = (rs: Run[]) => rs.map((r) => fmt(r.seconds, 1)).join(', ');
  const verdict = (ratio: number) => `**${fmt(ratio, 3)}×** (overhead ${fmt((ratio - 1) * 100, 1)} %; goal ≤ 10 %: ${ratio <= 1.1 ? 'met' : 'not met'})`;
  const table = markdownTable(
    ['shards', 'mode', `wall time, ${runs} runs (s)`, 'median'],
    pairs.flatMap((p) => {
      const what = `${p.rows.toLocaleString('en-US')} rows (${p.shards})`;
      return [
        [what, 'local', runsCell(p.local), `${fmt(wall(p.local), 1)} s`],
        [what, `queue (${WORKERS} workers)`, runsCell(p.queued), `${fmt(wall(p.queued), 1)} s`],
        [what, 'queue ÷ local', '', verdict(p.ratio)],
      ];
    }),
  );
  const stageTable = markdownTable(
    ['stage', 'input rows', ...pairs.flatMap((p) => [`local, ${p.shards} shards`, `queue, ${p.shards} shards`])],
    STAGES.map((s) => [s, rowsIn(s).toLocaleString('en-US'), ...pairs.flatMap((p) => [`${fmt(stage(p.local, s), 1)} s`, `${fmt(stage(p.queued, s), 1)} s`])]),
  );
  const body = `## Queue overhead: one pipeline locally vs through Redis (issue 11)

${machineLine(machine(), `1-min load average before each run: ${loads.map((x) => fmt(x, 1)).join(', ')} (other sessions share this 2-core VM); whole bench took ${fmt((performance.now() - started) / 60_000, 1)} min`)}

\`npm run bench:queue-overhead -- --docs N\` (default N = 200,000; here ${docs.toLocaleString('en-US')}, ${mib(statSync(join(dir, 'pool.jsonl')).size)} of JSONL).
The pool of \`bench:scale\` (bench/lib/web-pool.ts) through source.jsonl → transform.filter (length > 200) →
ml.classifier-score (trained on ${seeds.toLocaleString('en-US')} API-like seeds vs ${seeds.toLocaleString('en-US')} general pages) → ml.threshold (≥ 0.5) →
transform.dedup-near → sink.write, cold, in a fresh workspace each time: (a) \`forge run\` locally; (b) \`forge run --queue\`
against a private redis-server with ${WORKERS} \`forge worker\` processes on this same machine mounting the workspace's store
(connected before the clock starts). Wall time is the \`forge run\` process from spawn to exit; runs alternate between the
modes. The two shard-parallel nodes (filter, score) go out as one shard job per input shard; the others as one job each.
At the default shard size (${DEFAULT_SHARD_ROWS.toLocaleString('en-US')} rows) the pool is ${main.shards} shards, and its big shards cannot split evenly
over ${WORKERS} workers; the second size (\`--small-shards\`) gives more shard jobs than workers (better balance, more jobs).

${table}

Output hashes of every node: ${pairs.map((p) => `${p.rows.toLocaleString('en-US')}-row shards, all ${2 * runs} runs ${same([...p.local, ...p.queued]) ? 'identical' : '**differ**'}`).join('; ')}.

Median node time (the node's own, as the coordinator saw it; on the queue it includes handing out the jobs):

${stageTable}
`;
  writeSection('queue-overhead', body);
  log(
    `${pairs.map((p) => `${p.rows}-row shards: local ${fmt(wall(p.local), 1)} s, queue ${fmt(wall(p.queued), 1)} s, ${fmt(p.ratio, 3)}×`).join('; ')}; wrote bench/RESULTS.md section queue-overhead`,
  );
} finally {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
