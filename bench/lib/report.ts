import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem, type } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const REPO_ROOT = dirname(BENCH_DIR);
export const RESULTS_FILE = join(BENCH_DIR, 'RESULTS.md');

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Nearest-rank percentile: with few samples p95 is (close to) the worst one, which is the honest reading. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1] as number;
}

export function fmt(n: number, digits = 2): string {
  if (!Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function gib(bytes: number): string {
  return `${fmt(bytes / 2 ** 30, 2)} GiB`;
}

export function mib(bytes: number): string {
  return `${fmt(bytes / 2 ** 20, 0)} MiB`;
}

export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export interface Machine {
  cpu: string;
  cores: number;
  ramGiB: number;
  os: string;
  node: string;
  date: string;
  /** 1-minute load average when the bench finished: other work on the machine shows up here. */
  load1: number;
}

export function machine(): Machine {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    ramGiB: totalmem() / 2 ** 30,
    os: `${type()} ${release()}`,
    node: process.version,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    load1: loadavg()[0] ?? NaN,
  };
}

export function machineLine(m: Machine, extra: string): string {
  return `Machine: ${m.cpu}, ${m.cores} cores, ${fmt(m.ramGiB, 1)} GiB RAM, ${m.os}; Node ${m.node}; measured ${m.date} (1-min load average at the end: ${fmt(m.load1, 2)}); ${extra}.`;
}

const SKELETON = `# Benchmark results

Written by the benchmarks themselves; each bench rewrites only its own section (between its
\`<!-- name:start -->\` / \`<!-- name:end -->\` markers). Rerun one with \`npm run bench:<name>\`:
\`engine\`, \`memory\`, \`example\`, \`corpus-throughput\`, \`canvas\`, \`ml-embedder\`, \`ml-retriever\`,
\`ml-classifier\`. Numbers are from whatever machine last ran them (named in each section, with the
1-minute load average: this is a shared 2-core VM, so timings carry noise from other work).
`;

/** Replaces (or appends) the section of bench/RESULTS.md between this bench's markers. */
export function writeSection(name: string, body: string): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${start}\n${body.trim()}\n${end}`;
  const current = existsSync(RESULTS_FILE) ? readFileSync(RESULTS_FILE, 'utf8') : SKELETON;
  const i = current.indexOf(start);
  const j = current.indexOf(end);
  const next = i >= 0 && j > i ? current.slice(0, i) + block + current.slice(j + end.length) : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(RESULTS_FILE, next);
}

/** `--name value` or `--name=value` from the bench's own arguments (after the bench file). */
export function option(name: string): string | undefined {
  const args = process.argv.slice(3);
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === `--${name}`) return args[i + 1];
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

export function flag(name: string): boolean {
  return process.argv.slice(3).includes(`--${name}`);
}

export function intOption(name: string, envName: string, fallback: number): number {
  const raw = option(name) ?? process.env[envName];
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} / ${envName} must be a positive integer, got ${raw}`);
  return n;
}

export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}
