#!/usr/bin/env node
// Runs one benchmark file through tsx's loader (like bin/forge.cjs, no build step):
//   node bin/bench.mjs bench/engine-overhead.bench.ts [options]
// Extra arguments stay in process.argv for the bench to read.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node bin/bench.mjs <bench/file.bench.ts> [options]\n');
  process.exit(2);
}
register();
await import(pathToFileURL(resolve(file)).href);
// DuckDB and piscina may keep handles alive; the bench is done once its module has finished.
process.exit(process.exitCode ?? 0);
