// Baseline for bench/stream-memory.bench.ts: the same filter done by DuckDB alone, in its own
// process: read_json → WHERE → COPY … (FORMAT json). Run with the peak-rss preload:
//   node --import ./bench/lib/peak-rss.mjs bench/lib/duckdb-baseline.mjs <in.jsonl> <out.jsonl> <where> <tempDir>
// DuckDB runs with its defaults (memory_limit 80% of RAM, preserve_insertion_order true), except
// threads = the core count (as the engine sets it) and the spill folder.
import { DuckDBInstance } from '@duckdb/node-api';
import { availableParallelism } from 'node:os';

const [input, output, where, tempDir] = process.argv.slice(2);
if (!input || !output || !where || !tempDir) {
  process.stderr.write('usage: duckdb-baseline.mjs <in.jsonl> <out.jsonl> <where> <tempDir>\n');
  process.exit(2);
}
const q = (s) => `'${s.replaceAll("'", "''")}'`;
const options = { threads: String(availableParallelism()), temp_directory: tempDir };
if (process.env.BENCH_BASELINE_MEMORY) options.memory_limit = process.env.BENCH_BASELINE_MEMORY;
const instance = await DuckDBInstance.create(':memory:', options);
const conn = await instance.connect();
const t0 = performance.now();
await conn.run(`COPY (SELECT * FROM read_json(${q(input)}, format = 'newline_delimited') WHERE ${where}) TO ${q(output)} (FORMAT json)`);
process.stdout.write(`${JSON.stringify({ ms: performance.now() - t0 })}\n`);
conn.closeSync();
process.exit(0);
