// What running through a Redis queue costs on one machine: the same cold pipeline over a generated
// web-like pool (load → filter → classifier-score → threshold → near-dedup → write, the classifier
// trained on API-like seeds vs general pages) run (a) locally and (b) with `--queue` against a private
// redis-server and two `forge worker` processes on this machine sharing the workspace's store.
// Median of `--runs` cold runs per mode, alternating local / queue so load from other work hits both.
//   node bin/bench.mjs bench/queue-overhead.bench.ts [--docs 200000] [--seeds 2000] [--runs 3]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeOutcome, RunSummary } from '../engine/exec/events.js';
import { listWorkers } from '../engine/exec/queue/queue-executor.js';
import { checkRedis } from '../engine/exec/queue/redis.js';
import { freePort, sleep } from '../engine/test/queue-harness.js';
import { fmt, intOption, log, machine, machineLine, markdownTable, median, mib, REPO_ROOT, writeSection } from './lib/report.js';
import { graph } from '../nodes/_sdk/testing/graph.js';
import { writeWebPool } from './lib/web-pool.js';

const docs = intOption('docs', 'FORGE_BENCH_QUEUE_DOCS', 200_000);
const seeds = intOption('seeds', 'FORGE_BENCH_QUEUE_SEEDS', 2000);
const runs = intOption('runs', 'FORGE_BENCH_QUEUE_RUNS', 3);
const WORKERS = 2;
const CLI = join(REPO_ROOT, 'bin/forge.mjs');
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
function forgeRun(graphFile: string, ws: string, queue?: string): Run {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'run', graphFile, '-w', ws, '-q', '--json', ...(queue ? ['--queue', queue] : [])], { encoding: 'utf8', maxBuffer: 64 << 20 });
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
async function queueRun(graphFile: string, ws: string, url: string): Promise<Run> {
  mkdirSync(join(ws, '.forge'), { recursive: true });
  const init = spawnSync(process.execPath, [CLI, 'runs', '-w', ws], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`forge runs: ${init.stderr}`);
  const workers = Array.from({ length: WORKERS }, () => {
    const p = spawn(process.execPath, [CLI, 'worker', '--queue', url, '--store', join(ws, '.forge')], { stdio: ['ignore', 'ignore', 'pipe'] });
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
    return forgeRun(graphFile, ws, url);
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
  const local: Run[] = [];
  const queued: Run[] = [];
  for (let i = 0; i < runs; i++) {
    loads.push(loadavg()[0] ?? NaN);
    const l = forgeRun(graphFile, join(dir, `ws-local-${i}`));
    local.push(l);
    log(`run ${i + 1} local: ${fmt(l.seconds, 1)} s`);
    rmSync(join(dir, `ws-local-${i}`), { recursive: true, force: true });
    loads.push(loadavg()[0] ?? NaN);
    const q = await queueRun(graphFile, join(dir, `ws-queue-${i}`), url);
    queued.push(q);
    log(`run ${i + 1} queue: ${fmt(q.seconds, 1)} s`);
    rmSync(join(dir, `ws-queue-${i}`), { recursive: true, force: true });
  }
  loads.push(loadavg()[0] ?? NaN);

  const hashes = (r: Run) => [...r.nodes.values()].flatMap((n) => n.outputs.map((o) => `${n.nodeId}.${o.port}=${o.hash}`)).sort();
  const sameHashes = [...local, ...queued].every((r) => JSON.stringify(hashes(r)) === JSON.stringify(hashes(local[0] as Run)));
  const med = (rs: Run[], f: (r: Run) => number) => median(rs.map(f));
  const wallLocal = med(local, (r) => r.seconds);
  const wallQueue = med(queued, (r) => r.seconds);
  const ratio = wallQueue / wallLocal;
  const stage = (s: string) => (r: Run) => (r.nodes.get(s)?.durationMs ?? 0) / 1000;
  const rowsIn = (s: (typeof STAGES)[number]) => {
    const out = (id: string, port: string) => local[0]?.nodes.get(id)?.outputs.find((o) => o.port === port)?.rows ?? 0;
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
  const stageRows = STAGES.map((s) => [s, rowsIn(s).toLocaleString('en-US'), `${fmt(med(local, stage(s)), 1)} s`, `${fmt(med(queued, stage(s)), 1)} s`]);
  const runsCell = (rs: Run[]) => rs.map((r) => fmt(r.seconds, 1)).join(', ');
  const body = `## Queue overhead: one pipeline locally vs through Redis (issue 11)

${machineLine(machine(), `1-min load average before each run: ${loads.map((x) => fmt(x, 1)).join(', ')} (other sessions share this 2-core VM); whole bench took ${fmt((performance.now() - started) / 60_000, 1)} min`)}

\`npm run bench:queue-overhead -- --docs N\` (default N = 200,000; here ${docs.toLocaleString('en-US')}, ${mib(statSync(join(dir, 'pool.jsonl')).size)} of JSONL).
The pool of \`bench:scale\` (bench/lib/web-pool.ts) through source.jsonl → transform.filter (length > 200) →
ml.classifier-score (trained on ${seeds.toLocaleString('en-US')} API-like seeds vs ${seeds.toLocaleString('en-US')} general pages) → ml.threshold (≥ 0.5) →
transform.dedup-near → sink.write, cold, in a fresh workspace each time: (a) \`forge run\` locally; (b) \`forge run --queue\`
against a private redis-server with ${WORKERS} \`forge worker\` processes on this same machine mounting the workspace's store
(connected before the clock starts). Runs alternate local / queue; wall time is the \`forge run\` process from spawn to
exit. The two shard-parallel nodes (filter, score) go out as one shard job per input shard; the others as one job each.

${markdownTable(
  ['mode', `wall time, ${runs} runs`, 'median'],
  [
    ['local', runsCell(local), `${fmt(wallLocal, 1)} s`],
    [`queue (${WORKERS} workers)`, runsCell(queued), `${fmt(wallQueue, 1)} s`],
    ['queue ÷ local', '', `**${fmt(ratio, 3)}×** (overhead ${fmt((ratio - 1) * 100, 1)} %; goal ≤ 10 %: ${ratio <= 1.1 ? 'met' : 'not met'})`],
  ],
)}

Output hashes of every node, all runs: ${sameHashes ? 'identical' : '**differ**'}.

Median node time (the node's own, as the coordinator saw it; on the queue it includes the job's wait and transfer):

${markdownTable(['stage', 'input rows', 'local', 'queue'], stageRows)}
`;
  writeSection('queue-overhead', body);
  log(`local ${fmt(wallLocal, 1)} s, queue ${fmt(wallQueue, 1)} s: ${fmt(ratio, 3)}×; wrote bench/RESULTS.md section queue-overhead`);
} finally {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
