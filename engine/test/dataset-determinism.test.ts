import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyDeterministic, PARQUET_OPTIONS } from '../sdk/dataset.js';
import { duckdbInstance, sqlString } from '../store/duckdb.js';

const dir = mkdtempSync(join(tmpdir(), 'forge-determinism-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dataset bytes depend only on rows', () => {
  it('a filtered Parquet write gives the same file every time, even with several DuckDB threads', async () => {
    const instance = await duckdbInstance({ tempDirectory: join(dir, 'tmp') });
    const conn = await instance.connect();
    try {
      await conn.run('SET threads = 4');
      const input = join(dir, 'in.parquet');
      // Big enough for many scan batches (order-preserving parallel writes re-cut those by timing).
      await conn.run(
        `COPY (SELECT i AS id, repeat(md5(i::VARCHAR), 28) AS text, 'src' AS source, hash(i) % 1000 / 1000.0 AS score FROM range(300000) t(i)) TO ${sqlString(input)} (${PARQUET_OPTIONS})`,
      );
      const out = join(dir, 'out.parquet');
      const hashes = new Set<string>();
      for (let i = 0; i < 8; i++) {
        await copyDeterministic(conn, `COPY (SELECT * FROM read_parquet(${sqlString(input)}) WHERE score > 0.5) TO ${sqlString(out)} (${PARQUET_OPTIONS})`);
        hashes.add(createHash('sha256').update(readFileSync(out)).digest('hex'));
      }
      expect(hashes.size).toBe(1);
      // The instance's own parallelism is back for everything else.
      expect(Number((await conn.runAndReadAll("SELECT current_setting('threads') AS t")).getRowObjects()[0]?.t)).toBe(4);
    } finally {
      conn.closeSync();
    }
  });

  it("a failing COPY rejects with DuckDB's error, restores the thread count, and does not block the next one", async () => {
    const instance = await duckdbInstance({ tempDirectory: join(dir, 'tmp') });
    const conn = await instance.connect();
    try {
      await conn.run('SET threads = 3');
      await expect(copyDeterministic(conn, `COPY (SELECT no_such_column FROM range(3)) TO ${sqlString(join(dir, 'bad.parquet'))} (${PARQUET_OPTIONS})`)).rejects.toThrow(/no_such_column/);
      expect(Number((await conn.runAndReadAll("SELECT current_setting('threads') AS t")).getRowObjects()[0]?.t)).toBe(3);
      const ok = join(dir, 'ok.parquet');
      await copyDeterministic(conn, `COPY (SELECT 1 AS x) TO ${sqlString(ok)} (${PARQUET_OPTIONS})`);
      expect(Number((await conn.runAndReadAll(`SELECT count(*) AS n FROM read_parquet(${sqlString(ok)})`)).getRowObjects()[0]?.n)).toBe(1);
    } finally {
      conn.closeSync();
    }
  });
});
