import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { duckdbInstance } from '../../../engine/store/duckdb.js';
import { cleanupTempDirs, makeDataset } from '../testing/harness.js';
import { readStringColumn, readStringColumnChunks } from './rows.js';

afterAll(cleanupTempDirs);

describe('readStringColumn', () => {
  it('reads a multi-shard dataset shard by shard, in row order, NULL as null', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => ({ id: i, text: i === 4 ? null : `text ${i}` }));
    const ds = await makeDataset(rows, { shards: 3 });
    const conn = await (await duckdbInstance({ tempDirectory: join(tmpdir(), 'forge-ml-duckdb') })).connect();
    try {
      expect(await readStringColumn(conn, ds, 'text')).toEqual(rows.map((r) => r.text));
      expect(await readStringColumn(conn, ds, 'id')).toEqual(rows.map((r) => String(r.id)));
    } finally {
      conn.closeSync();
    }
  });

  it('in chunks: exactly maxRows rows each (the last shorter), spanning shard seams, in row order', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => ({ id: i, text: `text ${i}` }));
    const ds = await makeDataset(rows, { shards: 3 });
    const conn = await (await duckdbInstance({ tempDirectory: join(tmpdir(), 'forge-ml-duckdb') })).connect();
    try {
      const chunks: (string | null)[][] = [];
      for await (const c of readStringColumnChunks(conn, ds, 'text', 3)) chunks.push(c);
      expect(chunks.map((c) => c.length)).toEqual([3, 3, 3, 1]);
      expect(chunks.flat()).toEqual(rows.map((r) => r.text));
    } finally {
      conn.closeSync();
    }
  });
});
