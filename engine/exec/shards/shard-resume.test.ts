import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filterChainGraph, openEngine, outputHashes, REPO } from '../../test/helpers.js';
import { SHARD_CACHE_DIR } from './shard-cache.js';

const CLI = join(REPO, 'bin/forge.cjs');
const SHARDS = 40;
const ROWS_PER_SHARD = 500;
// Small shards, written two at a time, make a 40-shard node out of a small file.
const shardEnv = { FORGE_SHARD_ROWS: String(ROWS_PER_SHARD), FORGE_SHARD_WRITERS: '2' };

// md5 over a repeated text makes each shard take a while, so the kill lands mid-node.
const graph = filterChainGraph(1, [['keep', "score > 0.3 AND md5(repeat(text, 60)) <> ''"]]);

let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'forge-shard-resume-'));
  const out = createWriteStream(join(dir, 'pool.jsonl'));
  for (let i = 0; i < SHARDS * ROWS_PER_SHARD; i++) {
    const text = `document ${i} about tools, agents and function calls `.repeat(4 + (i % 5));
    out.write(`${JSON.stringify({ id: `d${i}`, text, score: ((i * 7919) % 1000) / 1000 })}\n`);
  }
  await new Promise<void>((r) => out.end(r));
  writeFileSync(join(dir, 'g.forge.json'), JSON.stringify(graph));
  Object.assign(process.env, shardEnv);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cachedShardFiles(ws: string): number {
  const d = join(ws, '.forge', SHARD_CACHE_DIR);
  return existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.parquet')).length : 0;
}

/** Runs the CLI and SIGKILLs it once `atFiles` shard files of the filter are in the shard cache. */
function killWhenCached(ws: string, atFiles: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'run', join(dir, 'g.forge.json'), '-w', ws, '-q'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...shardEnv } });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const poll = setInterval(() => {
      if (cachedShardFiles(ws) >= atFiles) {
        clearInterval(poll);
        child.kill('SIGKILL');
      }
    }, 10);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      if (signal === 'SIGKILL') resolve(cachedShardFiles(ws));
      else reject(new Error(`run ended by itself (code ${code}) before it could be killed:\n${err}`));
    });
  });
}

async function runInProcess(ws: string) {
  const engine = openEngine(ws);
  try {
    const { doc, file, baseDir } = engine.loadFile(join(dir, 'g.forge.json'));
    const summary = await engine.run(doc, { file, baseDir, trigger: 'test' });
    const hashes = outputHashes(engine, summary.runId);
    const keep = engine.ws.db.db.prepare("SELECT logs FROM executions WHERE run_id = ? AND node_id = 'keep'").get(summary.runId) as { logs: string } | undefined;
    return { summary, hashes, logs: keep?.logs ?? '' };
  } finally {
    engine.close();
  }
}

describe('shard-level resume', () => {
  it('after a SIGKILL half-way through a 40-shard filter, the rerun executes only unfinished shards and gives the same hashes', async () => {
    const reference = await runInProcess(join(dir, 'ws-reference'));
    expect(reference.logs).toContain(`shards: ${SHARDS} of ${SHARDS} executed`);

    const ws = join(dir, 'ws-killed');
    // Two output ports (kept, rejected) per input shard: 40 files is about half the node.
    const cachedAtKill = await killWhenCached(ws, SHARDS);
    expect(cachedAtKill).toBeLessThan(2 * SHARDS);

    const resumed = await runInProcess(ws);
    const m = /shards: (\d+) of (\d+) executed, (\d+) reused/.exec(resumed.logs);
    expect(m, resumed.logs).not.toBeNull();
    const [executed, total, reused] = [Number(m?.[1]), Number(m?.[2]), Number(m?.[3])];
    expect(total).toBe(SHARDS);
    expect(executed + reused).toBe(SHARDS);
    // A shard is reused only when both its files made it; each of the two writers may have left one file of an unfinished shard.
    expect(reused).toBeGreaterThanOrEqual(Math.floor((cachedAtKill - 2) / 2));
    expect(executed).toBeLessThan(SHARDS);
    expect(resumed.hashes['keep.out']).toBe(reference.hashes['keep.out']);
    expect(resumed.hashes['keep.rejected']).toBe(reference.hashes['keep.rejected']);
    expect(resumed.hashes['load.out']).toBe(reference.hashes['load.out']);
  }, 300_000);
});
