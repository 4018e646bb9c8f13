import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JsonValue } from '../../../engine/sdk/hash.js';
import type { ColumnInfo, OutputBuilder, RunContext } from '../../../engine/sdk/types.js';
import { duckdbInstance } from '../../../engine/store/duckdb.js';
import { cleanupTempDirs, tempDir } from '../testing/temp.js';
import { writeFileShards, type FileUnit } from './file-shards.js';

afterEach(cleanupTempDirs);
// Batches are as wide as the shard writers; two per batch makes "file 4 of 6" fall in the third batch on any machine.
const writers = process.env.FORGE_SHARD_WRITERS;
beforeAll(() => {
  process.env.FORGE_SHARD_WRITERS = '2';
});
afterAll(() => {
  if (writers === undefined) delete process.env.FORGE_SHARD_WRITERS;
  else process.env.FORGE_SHARD_WRITERS = writers;
});

function output(dir: string): OutputBuilder & { rows?: number; schema?: ColumnInfo[] } {
  mkdirSync(dir, { recursive: true });
  const o: OutputBuilder & { rows?: number; schema?: ColumnInfo[] } = {
    port: 'out',
    kind: 'dataset',
    dir,
    file: (rel) => join(dir, rel),
    setRows: (n) => (o.rows = n),
    setSchema: (s) => (o.schema = s),
    setMeta: (_k: string, _v: JsonValue) => undefined,
  };
  return o;
}

/** The slice of RunContext writeFileShards uses: progress, log, signal and the shard-cache slot. */
function context(cacheDir: string, logs: string[]): RunContext<unknown> {
  return { progress: () => undefined, log: (m: string) => logs.push(m), signal: new AbortController().signal, shardCache: { dir: cacheDir, nodeKey: 'node-key-1' } } as unknown as RunContext<unknown>;
}

const units: FileUnit[] = Array.from({ length: 6 }, (_, index) => ({ index, file: `f${index}.wet.gz`, abs: `/nowhere/f${index}.wet.gz` }));
const query = (u: FileUnit) => `SELECT 'doc-' || i || '-of-${u.file}' AS id, repeat('x', i) AS text FROM range(${10 * (u.index + 1)}) r(i) ORDER BY i`;

describe('writeFileShards', () => {
  it('after a failure on file 4 of 6, a rerun prepares only the unfinished files and writes the same bytes as an uninterrupted run', async () => {
    const dir = tempDir();
    const conn = await (await duckdbInstance({ tempDirectory: join(dir, 'duckdb') })).connect();
    const cache = join(dir, 'shard-cache');

    const whole = output(join(dir, 'whole'));
    await writeFileShards(context(join(dir, 'other-cache'), []), conn, whole, units, async (u) => ({ query: query(u) }));

    // The first attempt dies while preparing file 4 (as a killed process would, minus the kill).
    const first = output(join(dir, 'first'));
    await expect(
      writeFileShards(context(cache, []), conn, first, units, async (u) => {
        if (u.index === 4) throw new Error('killed');
        return { query: query(u) };
      }),
    ).rejects.toThrow('killed');

    const prepared: number[] = [];
    const logs: string[] = [];
    const second = output(join(dir, 'second'));
    const r = await writeFileShards(context(cache, logs), conn, second, units, async (u) => {
      prepared.push(u.index);
      return { query: query(u) };
    });
    // Files 0-3 (the first two batches) were finished and are reused; the failed batch is redone.
    expect(prepared).toEqual([4, 5]);
    expect(r.executed).toEqual([4, 5]);
    expect(r.reused).toEqual([0, 1, 2, 3]);
    expect(logs.join('\n')).toContain('files: 2 of 6 read, 4 reused from the shard cache (0-3)');
    expect(second.rows).toBe(whole.rows);
    for (const u of units) {
      const name = `shards/part-${String(u.index).padStart(6, '0')}.parquet`;
      expect(readFileSync(join(second.dir, name)).equals(readFileSync(join(whole.dir, name))), name).toBe(true);
    }
    conn.closeSync();
  });
});
