// Streaming memory and throughput: a ≈1 GB JSONL file through source.jsonl → transform.filter →
// sink.write (JSONL), run by the real CLI in a child process, against DuckDB doing the same filter
// alone (read_json → WHERE → COPY … FORMAT json). Peak RSS of each child comes from its own
// /proc/self/status VmHWM at exit (bench/lib/peak-rss.mjs), cross-checked by polling the
// process tree's VmRSS.
//
//   npm run bench:memory                                  # 1,000,000 records, median of 3
//   node bin/bench.mjs bench/stream-memory.bench.ts --records 100000 --reps 1 --no-write
//   … --memory-trials 512MB,256MB   DuckDB memory_limit values (FORGE_DUCKDB_MEMORY) to try, one
//                                   run each (default 1GB,512MB,384MB; --skip-trials for none)
//
// Goal (from the engine issue): our peak RSS under 1 GiB on the 1 GB input.
import { spawn } from 'node:child_process';
import { closeSync, createReadStream, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ALLOCATOR_BULK_FLUSH_THRESHOLD, ALLOCATOR_FLUSH_THRESHOLD, DEFAULT_MEMORY_LIMIT } from '../engine/store/duckdb.js';
import { BENCH_DIR, REPO_ROOT, flag, fmt, gib, intOption, log, machine, machineLine, markdownTable, median, mib, option, writeSection } from './lib/report.js';
import { cliChildEnv } from './lib/child-env.js';

const RECORDS = intOption('records', 'BENCH_RECORDS', 1_000_000);
const REPS = intOption('reps', 'BENCH_REPS', 3);
const WHERE = 'score > 0.5';
const GOAL_BYTES = 2 ** 30;
const TRIALS = (option('memory-trials') ?? '1GB,512MB,384MB').split(',').filter(Boolean);
const OUT_DIR = join(BENCH_DIR, 'out');
const GENERATOR_VERSION = 1;
const PEAK_RSS = pathToFileURL(join(BENCH_DIR, 'lib', 'peak-rss.mjs')).href;

// ---------------------------------------------------------------------------------------------
// Input data: generated once, deterministically, and cached under bench/out/ (gitignored).

/** mulberry32: small, fast, seeded. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function vocabulary(rand: () => number, size: number): string[] {
  const onsets = ['', 'b', 'c', 'd', 'f', 'g', 'h', 'j', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'w', 'z', 'br', 'ch', 'cl', 'dr', 'fl', 'gr', 'pl', 'pr', 'sh', 'sl', 'st', 'str', 'th', 'tr'];
  const vowels = ['a', 'e', 'i', 'o', 'u', 'ai', 'ea', 'ee', 'io', 'ou', 'y'];
  const codas = ['', '', 'n', 'r', 's', 't', 'l', 'm', 'nd', 'ng', 'rt', 'st', 'x', 'ck'];
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const words = new Set<string>(['the', 'of', 'and', 'to', 'a', 'in', 'is', 'for', 'that', 'with', 'on', 'as', 'by', 'it', 'api', 'function', 'returns', 'data', 'model', 'call']);
  while (words.size < size) {
    const syllables = 1 + Math.floor(rand() * 3.2);
    let w = '';
    for (let s = 0; s < syllables; s++) w += pick(onsets) + pick(vowels) + pick(codas);
    words.add(w);
  }
  return [...words];
}

interface DataFile {
  path: string;
  bytes: number;
  records: number;
}

function ensureData(records: number): DataFile {
  mkdirSync(OUT_DIR, { recursive: true });
  const path = join(OUT_DIR, `stream-${records}.jsonl`);
  const metaPath = `${path}.meta.json`;
  if (existsSync(path) && existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { version: number; records: number; bytes: number };
    if (meta.version === GENERATOR_VERSION && meta.records === records && statSync(path).size === meta.bytes) return { path, bytes: meta.bytes, records };
  }
  log(`generating ${records.toLocaleString('en-US')} records into ${path} (once; cached afterwards)…`);
  const t0 = performance.now();
  const rand = rng(20250206);
  const words = vocabulary(rand, 30_000);
  const sources: [string, number][] = [
    ['web', 0.45],
    ['api-docs', 0.2],
    ['code', 0.15],
    ['forum', 0.12],
    ['papers', 0.08],
  ];
  const pickSource = (): string => {
    let r = rand();
    for (const [s, w] of sources) {
      if (r < w) return s;
      r -= w;
    }
    return 'web';
  };
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  let bytes = 0;
  let batch: string[] = [];
  const flush = () => {
    const buf = Buffer.from(batch.join(''), 'utf8');
    writeSync(fd, buf);
    bytes += buf.length;
    batch = [];
  };
  try {
    for (let i = 0; i < records; i++) {
      const target = 820 + Math.floor(rand() * 160);
      const parts: string[] = [];
      let len = 0;
      let sentence = 0;
      while (len < target) {
        // Skewed (Zipf-like) word choice: frequent words dominate, the tail stays varied.
        let w = words[Math.floor(words.length * rand() ** 3)] as string;
        if (sentence === 0) w = w.charAt(0).toUpperCase() + w.slice(1);
        sentence++;
        if (sentence > 6 && rand() < 0.12) {
          w += rand() < 0.85 ? '.' : rand() < 0.5 ? '?' : ';';
          sentence = 0;
        } else if (rand() < 0.05) w += ',';
        parts.push(w);
        len += w.length + 1;
      }
      const record = { id: `doc-${String(i).padStart(7, '0')}`, text: parts.join(' '), source: pickSource(), score: Math.round(rand() * 1e6) / 1e6 };
      batch.push(`${JSON.stringify(record)}\n`);
      if (batch.length === 2000) flush();
    }
    flush();
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  writeFileSync(metaPath, JSON.stringify({ version: GENERATOR_VERSION, records, bytes, seed: 20250206 }));
  log(`  ${fmt(bytes / 1e6, 0)} MB in ${fmt((performance.now() - t0) / 1000, 1)} s`);
  return { path, bytes, records };
}

// ---------------------------------------------------------------------------------------------
// Measured child processes.

interface ChildResult {
  code: number | null;
  stderr: string;
  wallMs: number;
  /** VmHWM of the child's own process, read by the child at exit. */
  peakRss: number;
  /** Highest sum of VmRSS over the child's process tree seen by polling every 50 ms. */
  polledTreeRss: number;
  /** CPU time of all the child's threads (user + system), read by the child at exit: what the load average does not stretch. */
  cpuMs: number;
  stdout: string;
  /** Polled tree RSS over time (ms since spawn). */
  samples: { t: number; rss: number; cpuMs: number }[];
  /** stderr lines with their arrival time (ms since spawn). */
  lines: { t: number; line: string }[];
}

function readRss(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** User + system CPU time of a process (all its threads) so far, from /proc/<pid>/stat (clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

function treeRss(pid: number): number {
  let total = readRss(pid);
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const children = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      for (const c of children ? children.split(/\s+/) : []) total += treeRss(Number(c));
    }
  } catch {
    // the process is gone
  }
  return total;
}

function measureChild(args: string[], env: Record<string, string>, label: string): Promise<ChildResult> {
  const rssFile = join(tmpdir(), `forge-bench-rss-${process.pid}-${Date.now()}.json`);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', PEAK_RSS, ...args], {
      cwd: REPO_ROOT,
      env: cliChildEnv({ ...env, BENCH_RSS_OUT: rssFile }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let partial = '';
    const lines: { t: number; line: string }[] = [];
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      stderr += text;
      const t = performance.now() - t0;
      const parts = (partial + text).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) lines.push({ t, line });
    });
    let polled = 0;
    const samples: { t: number; rss: number; cpuMs: number }[] = [];
    const timer = setInterval(() => {
      if (!child.pid) return;
      const rss = treeRss(child.pid);
      if (rss === 0) return; // exited between ticks
      samples.push({ t: performance.now() - t0, rss, cpuMs: processCpuMs(child.pid) });
      polled = Math.max(polled, rss);
    }, 50);
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - t0;
      clearInterval(timer);
      try {
        const rss = JSON.parse(readFileSync(rssFile, 'utf8')) as { vmHwmBytes: number | null; maxRssBytes: number; cpuMs: number };
        rmSync(rssFile, { force: true });
        resolve({ code, stderr, wallMs, peakRss: rss.vmHwmBytes ?? rss.maxRssBytes, polledTreeRss: polled, cpuMs: rss.cpuMs, stdout, samples, lines });
      } catch (err) {
        reject(new Error(`${label} exited with ${code} and no peak-RSS report (${(err as Error).message}):\n${stderr.slice(-4000)}`));
      }
    });
  });
}

/** Counts records (lines) in a JSONL output, to check both sides kept the same rows. */
async function countLines(path: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) {
    const buf = chunk as Buffer;
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  }
  return n;
}

interface Measured extends ChildResult {
  rows: number;
  outBytes: number;
  nodeMs?: Record<string, number>;
  /** Set when the run failed (the first failed node's error); its peak RSS is still measured. */
  error?: string;
}

interface Summary {
  status: string;
  nodes: { nodeId: string; state: string; durationMs: number; error?: string }[];
}

/** A failed forge run is a result (DuckDB out of memory is one), not a crash of the bench. */
function failure(r: ChildResult, summary: Summary | null): Measured {
  const failed = summary?.nodes.find((n) => n.state === 'failed');
  const error = failed ? `${failed.nodeId}: ${failed.error ?? 'failed'}` : `exit ${r.code}: ${(r.stderr.trim().split('\n').pop() ?? '').slice(0, 300)}`;
  return { ...r, rows: NaN, outBytes: NaN, error, nodeMs: summary ? Object.fromEntries(summary.nodes.map((n) => [n.nodeId, n.durationMs])) : undefined };
}

function parseSummary(stdout: string): Summary | null {
  try {
    return JSON.parse(stdout) as Summary;
  } catch {
    return null;
  }
}

async function runOurs(data: DataFile, env: Record<string, string>, phases = false): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'forge-bench-stream-'));
  try {
    const out = join(dir, 'kept.jsonl');
    const graph = {
      format: 'forge-graph',
      version: 2,
      name: 'bench: stream memory',
      seed: 0,
      nodes: [
        { id: 'load', type: 'source.jsonl', params: { path: data.path, format: 'jsonl', source: 'bench' } },
        { id: 'keep', type: 'transform.filter', params: { where: WHERE } },
        { id: 'write', type: 'sink.write', params: { path: out, format: 'jsonl' } },
      ],
      edges: [
        { from: { node: 'load', port: 'out' }, to: { node: 'keep', port: 'in' } },
        { from: { node: 'keep', port: 'out' }, to: { node: 'write', port: 'in' } },
      ],
    };
    const graphFile = join(dir, 'stream.forge.json');
    writeFileSync(graphFile, JSON.stringify(graph, null, 2));
    // The input lives under bench/out/, outside the temporary graph folder: the engine reads it only when granted.
    const allowData = ['--allow', OUT_DIR];
    if (phases) {
      // The plain (non-TTY) progress view prints one stderr line per node event: phase marks.
      const r = await measureChild(['bin/forge.cjs', 'run', graphFile, '-w', join(dir, 'ws'), ...allowData], env, 'forge run');
      if (r.code !== 0 || !/ succeeded: 3 ran/.test(r.stdout)) {
        const line = r.stdout.split('\n').find((l) => l.startsWith('✖')) ?? r.stderr.split('\n').find((l) => l.startsWith('✖')) ?? `exit ${r.code}`;
        return { ...r, rows: NaN, outBytes: NaN, error: line.replace(/^✖\s*/, '') };
      }
      return { ...r, rows: await countLines(out), outBytes: statSync(out).size };
    }
    const r = await measureChild(['bin/forge.cjs', 'run', graphFile, '-w', join(dir, 'ws'), '-q', '--json', ...allowData], env, 'forge run');
    const summary = parseSummary(r.stdout);
    if (r.code !== 0 || !summary || summary.status !== 'succeeded' || summary.nodes.some((n) => n.state !== 'executed')) return failure(r, summary);
    const nodeMs = Object.fromEntries(summary.nodes.map((n) => [n.nodeId, n.durationMs]));
    return { ...r, rows: await countLines(out), outBytes: statSync(out).size, nodeMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runBaseline(data: DataFile): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'forge-bench-duck-'));
  try {
    const out = join(dir, 'kept.jsonl');
    const r = await measureChild([join('bench', 'lib', 'duckdb-baseline.mjs'), data.path, out, WHERE, join(dir, 'spill')], {}, 'duckdb baseline');
    if (r.code !== 0) throw new Error(`the DuckDB baseline failed (exit ${r.code}):\n${r.stderr.slice(-4000)}`);
    return { ...r, rows: await countLines(out), outBytes: statSync(out).size };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

const started = performance.now();
const data = ensureData(RECORDS);
const mbps = (ms: number) => data.bytes / 1e6 / (ms / 1000);
log(`stream memory: ${data.records.toLocaleString('en-US')} records, ${fmt(data.bytes / 1e6, 0)} MB, ${REPS} repetition(s), WHERE ${WHERE}`);

const ours: Measured[] = [];
const base: Measured[] = [];
const nodeTimes = (o: Measured) =>
  Object.entries(o.nodeMs ?? {})
    .map(([k, v]) => `${k} ${fmt(v / 1000, 1)} s`)
    .join(', ');
for (let i = 0; i < REPS; i++) {
  const o = await runOurs(data, {});
  ours.push(o);
  if (o.error) log(`  rep ${i + 1}/${REPS} forge:  FAILED after ${fmt(o.wallMs / 1000, 1)} s, peak RSS ${mib(o.peakRss)}: ${o.error}`);
  else
    log(
      `  rep ${i + 1}/${REPS} forge:  ${fmt(o.wallMs / 1000, 1)} s (CPU ${fmt(o.cpuMs / 1000, 1)} s), ${fmt(mbps(o.wallMs), 1)} MB/s, peak RSS ${mib(o.peakRss)} (polled ${mib(o.polledTreeRss)}), ${o.rows} rows kept; nodes ${nodeTimes(o)}`,
    );
  const b = await runBaseline(data);
  base.push(b);
  log(
    `  rep ${i + 1}/${REPS} duckdb: ${fmt(b.wallMs / 1000, 1)} s (CPU ${fmt(b.cpuMs / 1000, 1)} s), ${fmt(mbps(b.wallMs), 1)} MB/s, peak RSS ${mib(b.peakRss)} (polled ${mib(b.polledTreeRss)}), ${b.rows} rows kept`,
  );
  if (!o.error && o.rows !== b.rows) throw new Error(`row counts differ: forge kept ${o.rows}, DuckDB kept ${b.rows}`);
}

// Time and throughput: medians over the runs that finished. Peak RSS: over every run, failed ones
// included (a run that died of DuckDB's memory limit still had that peak).
const ok = ours.filter((o) => !o.error);
const failedRuns = ours.length - ok.length;
const med = (xs: Measured[], f: (m: Measured) => number) => median(xs.map(f));
const oursRss = med(ours, (m) => m.peakRss);
const baseRss = med(base, (m) => m.peakRss);
const oursMs = med(ok, (m) => m.wallMs);
const baseMs = med(base, (m) => m.wallMs);
const oursCpu = med(ok, (m) => m.cpuMs);
const baseCpu = med(base, (m) => m.cpuMs);
const defaultLimit = process.env.FORGE_DUCKDB_MEMORY ?? `${DEFAULT_MEMORY_LIMIT} (default)`;

// Other DuckDB memory limits, one run each: the previous default (1GB) and smaller ones, to show
// how much headroom each buys and what it costs.
const trials: { setting: string; m?: Measured; error?: string }[] = [];
if (!flag('skip-trials')) {
  for (const setting of TRIALS) {
    const m = await runOurs(data, { FORGE_DUCKDB_MEMORY: setting });
    if (m.error) {
      trials.push({ setting, error: m.error, m });
      log(`  FORGE_DUCKDB_MEMORY=${setting}: FAILED after ${fmt(m.wallMs / 1000, 1)} s, peak RSS ${mib(m.peakRss)}: ${m.error}`);
    } else {
      trials.push({ setting, m });
      log(`  FORGE_DUCKDB_MEMORY=${setting}: ${fmt(m.wallMs / 1000, 1)} s, ${fmt(mbps(m.wallMs), 1)} MB/s, peak RSS ${mib(m.peakRss)} (polled ${mib(m.polledTreeRss)})`);
    }
  }
}

// The same graph with every dataset written (no deferred chain), for the gain of computing it in one pass.
const written = await runOurs(data, { FORGE_DEFER: '0' });
log(`  FORGE_DEFER=0: ${written.error ? `FAILED: ${written.error}` : `${fmt(written.wallMs / 1000, 1)} s (CPU ${fmt(written.cpuMs / 1000, 1)} s), peak RSS ${mib(written.peakRss)}`}`);

// One more run with the progress view on, to see which phase the peak belongs to.
const phaseRun = await runOurs(data, {}, true);
const mark = (re: RegExp) => phaseRun.lines.find((l) => re.test(l.line))?.t ?? NaN;
const bounds: [string, number, number][] = [];
{
  const runStart = mark(/^run \S+: \d+ node/);
  const edges = [0, runStart, mark(/^▶ load/), mark(/^✔ load/), mark(/^▶ keep/), mark(/^✔ keep/), mark(/^▶ write/), mark(/^✔ write/), phaseRun.wallMs];
  const names = [
    'process start, open workspace, hash the input file (preflight)',
    'run start → load starts',
    'load: source.jsonl (deferred: publishes a recipe)',
    'between',
    'keep: transform.filter (deferred: publishes recipes)',
    'between',
    'write: sink.write (slices copied and read on parallel lanes, filtered, parts appended and hashed in order)',
    'summary and exit',
  ];
  names.forEach((n, i) => bounds.push([n, edges[i] as number, edges[i + 1] as number]));
}
const phaseRows = bounds
  .filter(([, a, b]) => Number.isFinite(a) && Number.isFinite(b) && b - a >= 50)
  .map(([name, a, b]) => {
    const inPhase = phaseRun.samples.filter((x) => x.t >= a && x.t <= b);
    // CPU from the last sample before the phase (process start: 0) to the last one in it.
    const before = phaseRun.samples.filter((x) => x.t < a).at(-1)?.cpuMs ?? 0;
    const cpu = (inPhase.at(-1)?.cpuMs ?? NaN) - before;
    return [name, `${fmt((b - a) / 1000, 1)} s`, Number.isFinite(cpu) ? `${fmt(cpu / 1000, 1)} s` : '–', inPhase.length > 0 ? mib(Math.max(...inPhase.map((x) => x.rss))) : '–'];
  });
if (phaseRun.error) phaseRows.push([`**the run failed**: ${phaseRun.error}`, '', '', mib(phaseRun.peakRss)]);
const phaseTable = markdownTable(['phase (one extra run, progress view on)', 'duration', 'CPU (polled)', 'peak polled RSS'], phaseRows);
log(`  phase run: ${fmt(phaseRun.wallMs / 1000, 1)} s, peak RSS ${mib(phaseRun.peakRss)}${phaseRun.error ? `, FAILED: ${phaseRun.error}` : ''}`);

const rows: string[][] = [
  [
    `**Forge** CLI: source.jsonl → filter → sink.write (FORGE_DUCKDB_MEMORY=${defaultLimit})${failedRuns > 0 ? `; **${failedRuns} of ${ours.length} runs failed** (see below)` : ''}`,
    `${gib(oursRss)} (${mib(oursRss)})`,
    ok.length > 0 ? `${fmt(oursMs / 1000, 1)} s` : '–',
    ok.length > 0 ? `${fmt(mbps(oursMs), 1)} MB/s` : '–',
    ok.length > 0 ? `${fmt(oursCpu / 1000, 1)} s` : '–',
    `< 1 GiB: ${oursRss < GOAL_BYTES && failedRuns === 0 ? '✅ met' : '❌ missed'}`,
  ],
  [
    'DuckDB alone: read_json → WHERE → COPY (FORMAT json), defaults',
    `${gib(baseRss)} (${mib(baseRss)})`,
    `${fmt(baseMs / 1000, 1)} s`,
    `${fmt(mbps(baseMs), 1)} MB/s`,
    `${fmt(baseCpu / 1000, 1)} s`,
    '',
  ],
  [
    'ratio Forge / DuckDB',
    `${fmt(oursRss / baseRss, 2)}× memory`,
    `${fmt(oursMs / baseMs, 2)}× time`,
    `${fmt(mbps(oursMs) / mbps(baseMs), 2)}× throughput (goal ≥ 0.5×: ${mbps(oursMs) / mbps(baseMs) >= 0.5 ? '✅ met' : '❌ missed'})`,
    `${fmt(oursCpu / baseCpu, 2)}× CPU`,
    '',
  ],
  written.error
    ? ['Forge with every dataset written (FORGE_DEFER=0, 1 run)', mib(written.peakRss), '', `**failed**: ${written.error}`, '', '❌']
    : [
        'Forge with every dataset written (FORGE_DEFER=0, 1 run): load → Parquet, filter → Parquet, write',
        `${gib(written.peakRss)} (${mib(written.peakRss)})`,
        `${fmt(written.wallMs / 1000, 1)} s`,
        `${fmt(mbps(written.wallMs), 1)} MB/s`,
        `${fmt(written.cpuMs / 1000, 1)} s`,
        `< 1 GiB: ${written.peakRss < GOAL_BYTES ? '✅ met' : '❌ missed'}`,
      ],
  ...trials.map(({ setting, m, error }) =>
    m && !error
      ? [
          `Forge with FORGE_DUCKDB_MEMORY=${setting} (1 run)`,
          `${gib(m.peakRss)} (${mib(m.peakRss)})`,
          `${fmt(m.wallMs / 1000, 1)} s`,
          `${fmt(mbps(m.wallMs), 1)} MB/s`,
          `${fmt(m.cpuMs / 1000, 1)} s`,
          `< 1 GiB: ${m.peakRss < GOAL_BYTES ? '✅ met' : '❌ missed'}`,
        ]
      : [
          `Forge with FORGE_DUCKDB_MEMORY=${setting} (1 run)`,
          m ? `${mib(m.peakRss)} when it failed` : '–',
          m ? `failed after ${fmt(m.wallMs / 1000, 1)} s` : '',
          `**failed**: ${error ?? ''}`,
          '',
          '❌',
        ],
  ),
];
const table = markdownTable(['pipeline (child process)', 'peak RSS (median)', 'wall time (median)', 'input throughput', 'CPU time, all threads (median)', 'goal'], rows);

const perRep = markdownTable(
  ['run', 'Forge wall (CPU)', 'Forge peak RSS (VmHWM / polled tree)', 'Forge node times (load / keep / write)', 'DuckDB wall (CPU)', 'DuckDB peak RSS (VmHWM / polled tree)'],
  ours.map((o, i) => {
    const b = base[i] as Measured;
    const n = o.nodeMs ?? {};
    return [
      String(i + 1),
      o.error ? `**failed** after ${fmt(o.wallMs / 1000, 1)} s: ${o.error}` : `${fmt(o.wallMs / 1000, 1)} s (${fmt(o.cpuMs / 1000, 1)} s)`,
      `${mib(o.peakRss)} / ${mib(o.polledTreeRss)}`,
      `${fmt((n.load ?? NaN) / 1000, 1)} / ${fmt((n.keep ?? NaN) / 1000, 1)} / ${fmt((n.write ?? NaN) / 1000, 1)} s`,
      `${fmt(b.wallMs / 1000, 1)} s (${fmt(b.cpuMs / 1000, 1)} s)`,
      `${mib(b.peakRss)} / ${mib(b.polledTreeRss)}`,
    ];
  }),
);

const m = machine();
const kept = (ok[0] ?? base[0]) as Measured;
const body = `## Streaming memory: 1 GB JSONL through load → filter → write

${machineLine(m, `median of ${REPS} runs each, Forge and DuckDB alternating; whole bench took ${fmt((performance.now() - started) / 60000, 1)} min`)}

Input: ${data.records.toLocaleString('en-US')} generated records, ${fmt(data.bytes / 1e6, 0)} MB (${mib(data.bytes)}) of JSONL
(\`id\`, ~900 chars of \`text\` from a 30k-word Zipf-like vocabulary, \`source\`, \`score\` uniform in [0, 1]);
\`WHERE ${WHERE}\` keeps ${kept.rows.toLocaleString('en-US')} records (${fmt(kept.outBytes / 1e6, 0)} MB written). Throughput is input MB
(10^6 bytes) per second of the child's wall time, process start to exit; both sides wrote the same row count.

${table}

Per run:

${perRep}

Where the peak is (an extra run with the CLI's line progress view, whose stderr lines mark the phases):

${phaseTable}

How: \`bench/stream-memory.bench.ts\` runs \`node bin/forge.cjs run <graph> -w <fresh workspace> -q --json\` as a
child process, and \`bench/lib/duckdb-baseline.mjs\` (one \`COPY (SELECT * FROM read_json(…) WHERE ${WHERE}) TO … (FORMAT
json)\` with @duckdb/node-api, DuckDB's default memory limit of 80 % of RAM) as another. The Forge run is cold: a fresh
workspace, so the input is hashed in preflight.

The loader and the filter are deferred (\`engine/sdk/deferred.ts\`): each publishes a recipe, and sink.write computes
source → filter → its file in one pass. The file is scanned once for newlines and cut into slices of 65,536 lines;
one single-threaded lane per core copies a slice at a time into a scratch file (removed once read), parses it, numbers
ids from the lines before the slice, checks every record's text, filters and writes its part; the parts are appended
to the output in order and hashed on the way as they finish. The lanes run on a DuckDB confined to the output's temp
folder, where the slices are, which keeps up to 256MB of freed buffers instead of handing them back to the OS per slice. The row for \`FORGE_DEFER=0\` is the same graph
writing every dataset: zstd Parquet shards for the load, kept and rejected shards for the filter, then the sink reads
them back.

Peak RSS is each child's VmHWM from \`/proc/self/status\`, written at exit by \`bench/lib/peak-rss.mjs\` (loaded with
\`node --import\`). The polled figure is the largest sum of VmRSS over the child's process tree, sampled every 50 ms: a
lower bound that confirms no helper process escaped the measurement. The engine's DuckDB (\`engine/store/duckdb.ts\`)
has memory_limit FORGE_DUCKDB_MEMORY (default ${DEFAULT_MEMORY_LIMIT}), threads = cores, preserve_insertion_order on,
and hands freed memory back to the OS early (allocator_flush_threshold ${ALLOCATOR_FLUSH_THRESHOLD},
allocator_bulk_deallocation_flush_threshold ${ALLOCATOR_BULK_FLUSH_THRESHOLD}, background purge threads).

CPU time is the child's user + system time over all its threads (\`process.resourceUsage()\` at exit; per phase:
polled from \`/proc/<pid>/stat\`). On a shared machine the load average stretches wall times; CPU time is what it does
not stretch.

What Forge does beyond DuckDB's single pass:
- it starts a CLI and opens a workspace;
- it hashes the input (SHA-256 of the 1 GB, about 0.6 s on one core here) before anything runs, because the cache keys
  depend on it;
- it scans the input for newlines (about 0.2 s) to cut slices whose ids it knows;
- it copies each slice into a scratch file for its lane, since DuckDB reads whole files only (a named pipe fed with the
  slice's bytes avoided that write, but DuckDB copies what it reads from a pipe once more, and it was slower);
- it writes each part, then appends it to the output while hashing it: twice the page-cache writes of DuckDB's one
  COPY, which on this VM costs mostly system time (first-touch page faults: reused buffers matter more than copies).`;

process.stdout.write(`\n${table}\n\n${perRep}\n\n${phaseTable}\n`);
if (!flag('no-write')) {
  writeSection('stream-memory', body);
  log('wrote the stream-memory section of bench/RESULTS.md');
}
