// source.warc throughput: generated Common-Crawl-like WET files (one gzip member per record, ~4 KB of
// text per page) read (a) by warcio alone in this process, (b) by node's native zlib alone (the
// floor: gunzip without any parsing), and (c) by `forge run` of a source.warc graph as a child
// process, with its peak RSS. Median of N runs each, alternating.
//   node bin/bench.mjs bench/source-warc.bench.ts [--files 8] [--docs 5000] [--runs 3]
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createGunzip, gzipSync } from 'node:zlib';
import { readWarcDocuments, type ReadCounts } from '../nodes/source-warc/warc-records.js';
import { BENCH_DIR, fmt, intOption, log, machine, machineLine, markdownTable, median, mib, REPO_ROOT, writeSection } from './lib/report.js';
import { cliChildEnv } from './lib/child-env.js';

const files = intOption('files', 'FORGE_BENCH_WARC_FILES', 8);
const docs = intOption('docs', 'FORGE_BENCH_WARC_DOCS', 5000);
const runs = intOption('runs', 'FORGE_BENCH_RUNS', 3);
const dir = mkdtempSync(join(tmpdir(), 'forge-warc-bench-'));
const PEAK_RSS = pathToFileURL(join(BENCH_DIR, 'lib', 'peak-rss.mjs')).href;

// A Zipf-like vocabulary, so the text compresses roughly like web text does.
const vocab = Array.from({ length: 20_000 }, (_, i) => `w${(i * 2654435761) % 1_000_003}`);
let seed = 7;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
function page(): string {
  const words: string[] = [];
  for (let n = 0; n < 600; n++) words.push(vocab[Math.floor(vocab.length * rand() ** 3)] as string);
  return words.join(' ');
}

function record(n: number, text: string): Buffer {
  const body = Buffer.from(text);
  const head = `WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Target-URI: https://site${n}.example/\r\nWARC-Date: 2024-02-20T10:00:00Z\r\nWARC-Record-ID: <urn:uuid:bench-${n}>\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n`;
  return gzipSync(Buffer.concat([Buffer.from(head), body, Buffer.from('\r\n\r\n')]));
}

let textBytes = 0;
let gzBytes = 0;
mkdirSync(join(dir, 'crawl'));
for (let f = 0; f < files; f++) {
  const members: Buffer[] = [];
  for (let d = 0; d < docs; d++) {
    const text = page();
    textBytes += Buffer.byteLength(text);
    members.push(record(f * docs + d, text));
  }
  const buf = Buffer.concat(members);
  gzBytes += buf.length;
  writeFileSync(join(dir, 'crawl', `part-${f}.warc.wet.gz`), buf);
}
const total = files * docs;
log(`generated ${files} WET files, ${total} pages, ${mib(textBytes)} of text, ${mib(gzBytes)} gzipped`);
writeFileSync(join(dir, 'g.forge.json'), JSON.stringify({ format: 'forge-graph', version: 2, seed: 1, nodes: [{ id: 'cc', type: 'source.warc', params: { path: 'crawl/*.gz' } }], edges: [] }));

async function warcioOnly(): Promise<number> {
  const t0 = performance.now();
  const counts: ReadCounts = { records: 0, documents: 0, skippedResponses: 0, skippedOversized: 0, skippedOther: 0 };
  for (let f = 0; f < files; f++) {
    for await (const d of readWarcDocuments(join(dir, 'crawl', `part-${f}.warc.wet.gz`), 'x', { responses: 'skip', maxRecordBytes: 16 << 20, signal: new AbortController().signal }, counts)) void d;
  }
  if (counts.documents !== total) throw new Error(`warcio read ${counts.documents} of ${total}`);
  return (performance.now() - t0) / 1000;
}

async function gunzipOnly(): Promise<number> {
  const t0 = performance.now();
  for (let f = 0; f < files; f++) {
    const gunzip = createReadStream(join(dir, 'crawl', `part-${f}.warc.wet.gz`)).pipe(createGunzip());
    for await (const chunk of gunzip) void chunk;
  }
  return (performance.now() - t0) / 1000;
}

function forgeRun(i: number): { s: number; rss: number } {
  const ws = join(dir, `ws-${i}`);
  const rssFile = join(dir, `rss-${i}.json`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', PEAK_RSS, join(REPO_ROOT, 'bin/forge.cjs'), 'run', join(dir, 'g.forge.json'), '-w', ws, '-q', '--json'], {
    encoding: 'utf8',
    env: cliChildEnv({ BENCH_RSS_OUT: rssFile }),
    maxBuffer: 64 << 20,
  });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`forge run exited ${r.status}: ${r.stderr}`);
  const rss = JSON.parse(readFileSync(rssFile, 'utf8')) as { vmHwmBytes: number | null; maxRssBytes: number };
  rmSync(ws, { recursive: true, force: true });
  return { s, rss: rss.vmHwmBytes ?? rss.maxRssBytes };
}

const started = performance.now();
const w: number[] = [];
const z: number[] = [];
const f: { s: number; rss: number }[] = [];
for (let i = 0; i < runs; i++) {
  z.push(await gunzipOnly());
  w.push(await warcioOnly());
  f.push(forgeRun(i));
  log(`run ${i + 1}: gunzip ${fmt(z[i] ?? 0)} s, warcio ${fmt(w[i] ?? 0)} s, forge ${fmt(f[i]?.s ?? 0)} s (${mib(f[i]?.rss ?? 0)})`);
}
const row = (label: string, s: number, extra = '') => [label, `${fmt(s, 2)} s`, `${fmt(total / s, 0)}`, `${fmt(textBytes / 1e6 / s, 1)}`, extra];
const fs = median(f.map((x) => x.s));
const body = `## source.warc: Common-Crawl-like WET files

${machineLine(machine(), `median of ${runs} runs each, alternating; whole bench took ${fmt((performance.now() - started) / 60_000, 1)} min`)}

Input: ${files} generated WET files of ${docs} pages each (${total} pages, ~4 KB of Zipf-like text per page,
one gzip member per record as Common Crawl writes them): ${fmt(textBytes / 1e6, 1)} MB of text, ${fmt(gzBytes / 1e6, 1)} MB gzipped
(${fmt(statSync(join(dir, 'crawl', 'part-0.warc.wet.gz')).size / 1e6, 1)} MB per file). Throughput is MB of text (10^6 bytes) per second.

${markdownTable(
  ['pipeline', 'time (median)', 'pages/s', 'text MB/s', 'peak RSS'],
  [
    row('node zlib gunzip alone (floor: no parsing)', median(z)),
    row('warcio parse alone, in process (`readWarcDocuments`)', median(w)),
    row('**Forge** CLI: `source.warc` → dataset (process start to exit, Parquet shards written)', fs, mib(Math.max(...f.map((x) => x.rss)))),
  ],
)}

warcio inflates with pako (JavaScript), one file at a time per node execution; the CLI row adds process start,
input hashing, the JSON Lines scratch pass and the Parquet shard writes. On inputs this small the CLI row is
dominated by start-up (a few seconds before the node runs), so the warcio row is the rate to scale from; on this
shared VM every row also carries the load average in the machine line.
`;
writeSection('source-warc', body);
log('wrote bench/RESULTS.md section source-warc');
rmSync(dir, { recursive: true, force: true });
