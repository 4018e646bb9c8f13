// The in-memory near-dedup baseline for bench/dedup-near.bench.ts: reads a JSONL file and runs
// `findNearDuplicates` over all its texts at once (every shingle set and signature in JavaScript),
// then prints {seconds, dropped} as one JSON line.
//   node bin/bench.mjs bench/lib/dedup-in-memory.ts <file.jsonl> '<params json>'
import { readFileSync } from 'node:fs';
import { findNearDuplicates, type ShingleUnit } from '../../nodes/dedup-near/minhash.js';

const [file, paramsJson] = process.argv.slice(3);
if (!file || !paramsJson) throw new Error('usage: dedup-in-memory.ts <file.jsonl> <params json>');
const p = JSON.parse(paramsJson) as { unit: ShingleUnit; ngram: number; bands: number; rows: number; threshold: number };
const texts = readFileSync(file, 'utf8')
  .split('\n')
  .filter((l) => l.length > 0)
  .map((l) => String((JSON.parse(l) as { text: unknown }).text ?? ''));
const t0 = performance.now();
const res = findNearDuplicates(texts, { ...p, verify: 'exact', seed: 1, maxBucket: 100, lowercase: true });
let dropped = 0;
for (let i = 0; i < res.root.length; i++) if (res.root[i] !== i) dropped++;
process.stdout.write(`${JSON.stringify({ seconds: (performance.now() - t0) / 1000, dropped })}\n`);
