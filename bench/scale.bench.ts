// The whole corpus pipeline at N and 4N documents: a generated web-like pool (a tenth of it agent-like
// API text, a tenth near copies) through load → embed (built-in hashed n-gram embedder) → retrieve
// against 2k seeds → classifier-score → threshold → near-dedup → write, one cold `forge run` per size
// as a child process. Reports docs/s per stage (the node's own time), peak RSS, and the growth from N
// to 4N (goal: time linear within 15 %, memory flat).
//   node bin/bench.mjs bench/scale.bench.ts [--docs 1000000] [--seeds 2000]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH_DIR, fmt, intOption, log, machine, machineLine, markdownTable, mib, REPO_ROOT, writeSection } from './lib/report.js';
import { writeWebPool as write } from './lib/web-pool.js';
import { cliChildEnv } from './lib/child-env.js';

const baseDocs = intOption('docs', 'FORGE_BENCH_SCALE_DOCS', 1_000_000);
const seeds = intOption('seeds', 'FORGE_BENCH_SCALE_SEEDS', 2000);
const dir = mkdtempSync(join(tmpdir(), 'forge-scale-bench-'));
const PEAK_RSS = pathToFileURL(join(BENCH_DIR, 'lib', 'peak-rss.mjs')).href;

const STAGES = ['load', 'embed', 'retrieve', 'score', 'keep', 'dedup', 'write'] as const;

function graph(poolFile: string): string {
  const node = (id: string, type: string, params: object) => ({ id, type, params });
  const edge = (from: string, to: string) => {
    const [fn, fp] = from.split('.') as [string, string];
    const [tn, tp] = to.split('.') as [string, string];
    return { from: { node: fn, port: fp }, to: { node: tn, port: tp } };
  };
  const g = {
    format: 'forge-graph',
    version: 3,
    seed: 1,
    nodes: [
      node('load', 'source.jsonl', { path: poolFile }),
      node('seeds', 'source.jsonl', { path: 'seeds.jsonl' }),
      node('general', 'source.jsonl', { path: 'general.jsonl' }),
      node('embed', 'ml.embed', { model: 'builtin:hashed-ngram' }),
      node('embed_seeds', 'ml.embed', { model: 'builtin:hashed-ngram' }),
      node('retrieve', 'ml.retrieve', { mode: 'pool', aggregate: 'max', threshold: 0.3 }),
      node('classifier', 'ml.classifier-train', { positiveLabel: 'agent', negativeLabel: 'general', dim: 50, epoch: 5, wordNgrams: 2, threads: 1 }),
      node('score', 'ml.classifier-score', { positiveLabel: 'agent', scoreColumn: 'agent_score' }),
      node('keep', 'ml.threshold', { scoreColumn: 'agent_score', threshold: 0.5 }),
      node('dedup', 'transform.dedup-near', { ngram: 5, bands: 16, rows: 8, threshold: 0.8 }),
      node('write', 'sink.write', { path: `out-${poolFile}`, format: 'jsonl' }),
    ],
    edges: [
      edge('load.out', 'embed.in'),
      edge('seeds.out', 'embed_seeds.in'),
      edge('embed_seeds.out', 'retrieve.seeds'),
      edge('embed.out', 'retrieve.pool'),
      edge('load.out', 'retrieve.poolData'),
      edge('seeds.out', 'classifier.positives'),
      edge('general.out', 'classifier.negatives'),
      edge('classifier.model', 'score.model'),
      edge('retrieve.retrieved', 'score.in'),
      edge('score.out', 'keep.in'),
      edge('keep.kept', 'dedup.in'),
      edge('dedup.out', 'write.in'),
    ],
  };
  const file = join(dir, `scale-${poolFile}.forge.json`);
  writeFileSync(file, JSON.stringify(g));
  return file;
}

interface Outcome {
  nodeId: string;
  state: string;
  durationMs: number;
  peakRssBytes?: number;
  outputs: { port: string; rows: number | null }[];
}

function run(n: number): { seconds: number; rss: number; nodes: Map<string, Outcome>; bytes: number } {
  const poolFile = `pool-${n}.jsonl`;
  return { ...runFile(poolFile), bytes: statSync(join(dir, poolFile)).size };
}

function runFile(poolFile: string): { seconds: number; rss: number; nodes: Map<string, Outcome> } {
  const rssFile = join(dir, 'rss.json');
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', PEAK_RSS, join(REPO_ROOT, 'bin/forge.cjs'), 'run', graph(poolFile), '-w', join(dir, `ws-${poolFile}`), '-q', '--json'], {
    encoding: 'utf8',
    env: cliChildEnv({ BENCH_RSS_OUT: rssFile }),
    maxBuffer: 64 << 20,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`forge run exited ${r.status}: ${r.stdout.slice(-3000)}${r.stderr.slice(-3000)}`);
  const summary = JSON.parse(r.stdout) as { nodes: Outcome[] };
  const rss = JSON.parse(readFileSync(rssFile, 'utf8')) as { vmHwmBytes: number | null; maxRssBytes: number };
  rmSync(join(dir, `ws-${poolFile}`), { recursive: true, force: true });
  return { seconds, rss: rss.vmHwmBytes ?? rss.maxRssBytes, nodes: new Map(summary.nodes.map((x) => [x.nodeId, x])) };
}

const started = performance.now();
await write(join(dir, 'seeds.jsonl'), seeds, 'seeds', 2);
await write(join(dir, 'general.jsonl'), seeds, 'general', 3);
const sizes = [baseDocs, 4 * baseDocs];
const results = new Map<number, ReturnType<typeof run>>();
for (const n of sizes) {
  const bytes = await write(join(dir, `pool-${n}.jsonl`), n, 'pool', 1);
  log(`generated ${n} pool documents (${mib(bytes)})`);
  const r = run(n);
  results.set(n, r);
  log(
    `${n} docs: ${fmt(r.seconds, 1)} s, peak ${mib(r.rss)}; ${STAGES.map((s) => `${s} ${fmt((r.nodes.get(s)?.durationMs ?? 0) / 1000, 1)} s / ${mib(r.nodes.get(s)?.peakRssBytes ?? 0)}`).join(', ')}`,
  );
  rmSync(join(dir, `pool-${n}.jsonl`), { force: true });
}

/** Rows a stage read: its input's rows (the pool for load/embed/retrieve, the previous stage's output after that). */
function inputRows(r: ReturnType<typeof run>, stage: (typeof STAGES)[number], n: number): number {
  const out = (id: string, port: string) => r.nodes.get(id)?.outputs.find((o) => o.port === port)?.rows ?? 0;
  switch (stage) {
    case 'load':
    case 'embed':
    case 'retrieve':
      return n;
    case 'score':
      return out('retrieve', 'retrieved');
    case 'keep':
      return out('score', 'out');
    case 'dedup':
      return out('keep', 'kept');
    case 'write':
      return out('dedup', 'out');
  }
}

const [small, big] = sizes.map((n) => results.get(n) as ReturnType<typeof run>) as [ReturnType<typeof run>, ReturnType<typeof run>];
const stageRows = STAGES.map((s) => {
  const cells = sizes.map((n) => {
    const r = results.get(n) as ReturnType<typeof run>;
    const rows = inputRows(r, s, n);
    const sec = (r.nodes.get(s)?.durationMs ?? 0) / 1000;
    const peak = r.nodes.get(s)?.peakRssBytes;
    return `${rows.toLocaleString('en-US')} rows, ${fmt(sec, 1)} s, ${fmt(rows / Math.max(sec, 1e-3), 0)} docs/s, peak ${peak ? mib(peak) : '?'}`;
  });
  const growth = (big.nodes.get(s)?.durationMs ?? 0) / Math.max(1, small.nodes.get(s)?.durationMs ?? 0);
  return [s, ...cells, `${fmt(growth, 2)}×`];
});
const total = (r: ReturnType<typeof run>) => STAGES.reduce((t, s) => t + (r.nodes.get(s)?.durationMs ?? 0), 0) / 1000;
const timeGrowth = total(big) / total(small);
const body = `## Scale: the corpus pipeline at N and 4N documents (issue 11)

${machineLine(machine(), `one cold run per size; whole bench took ${fmt((performance.now() - started) / 60_000, 1)} min`)}

\`npm run bench:scale -- --docs N\` (default N = 1,000,000). A generated web-like pool (~120-word pages from a Zipf-like
30k vocabulary; a tenth agent-like API text, a tenth near copies of recent documents) through source.jsonl → ml.embed
(built-in hashed n-gram) → ml.retrieve (pool mode, max similarity ≥ 0.3 to ${seeds.toLocaleString('en-US')} API-like seeds) →
ml.classifier-score (trained on the seeds vs ${seeds.toLocaleString('en-US')} general pages) → ml.threshold (≥ 0.5) →
transform.dedup-near → sink.write, one cold \`forge run\` each. Stage time is the node's own; docs/s is its input rows per second;
peak is the engine process's resident set while the stage ran, sampled every 200 ms (the run's \`peakRssBytes\`).

${markdownTable(['stage', `N = ${sizes[0]?.toLocaleString('en-US')}`, `4N = ${sizes[1]?.toLocaleString('en-US')}`, 'time 4N ÷ N (linear = 4)'], stageRows)}

| | N | 4N | 4N ÷ N |
| --- | --- | --- | --- |
| pool JSONL | ${mib(small.bytes)} | ${mib(big.bytes)} | ${fmt(big.bytes / small.bytes, 2)}× |
| pipeline stages, summed | ${fmt(total(small), 1)} s | ${fmt(total(big), 1)} s | ${fmt(timeGrowth, 2)}× (goal 4 ± 15 %: ${Math.abs(timeGrowth / 4 - 1) <= 0.15 ? 'met' : 'not met'}) |
| whole run (process start to exit) | ${fmt(small.seconds, 1)} s | ${fmt(big.seconds, 1)} s | ${fmt(big.seconds / small.seconds, 2)}× |
| peak RSS | ${mib(small.rss)} | ${mib(big.rss)} | ${fmt(big.rss / small.rss, 2)}× (goal: flat) |
`;
writeSection('scale', body);
log('wrote bench/RESULTS.md section scale');
rmSync(dir, { recursive: true, force: true });
