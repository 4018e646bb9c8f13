import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetSql, PARQUET_OPTIONS, shardFile, writeDatasetFromQuery } from '../../sdk/dataset.js';
import type { ArtifactRef, ColumnInfo, OutputBuilder } from '../../sdk/types.js';
import { duckdbInstance, sqlString } from '../../store/duckdb.js';

const dir = mkdtempSync(join(tmpdir(), 'forge-sharded-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function builder(out: string): OutputBuilder & { rows?: number; schema?: ColumnInfo[] } {
  mkdirSync(out, { recursive: true });
  const b: OutputBuilder & { rows?: number; schema?: ColumnInfo[] } = {
    port: 'out',
    kind: 'dataset',
    dir: out,
    file: (p) => join(out, p),
    setRows: (n) => (b.rows = n),
    setSchema: (s) => (b.schema = s),
    setMeta: () => undefined,
  };
  return b;
}

function shardHashes(out: string): string[] {
  const d = join(out, 'shards');
  return readdirSync(d)
    .sort()
    .map((f) =>
      createHash('sha256')
        .update(readFileSync(join(d, f)))
        .digest('hex'),
    );
}

describe('sharded datasets', () => {
  it('cuts a query into bounded shards, in order, with the same bytes on every run despite a multithreaded query', async () => {
    process.env.FORGE_SHARD_ROWS = '7000';
    const instance = await duckdbInstance({ tempDirectory: join(dir, 'tmp') });
    const conn = await instance.connect();
    try {
      await conn.run('SET threads = 4');
      const query = `SELECT i AS id, repeat(md5(i::VARCHAR), 1 + i % 9) AS text, 'src' AS source FROM range(50000) t(i) WHERE hash(i) % 3 <> 0`;
      const expected = Number((await conn.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM (${query})`)).getRowObjects()[0]?.n);
      const runs: string[][] = [];
      for (let r = 0; r < 3; r++) {
        const out = builder(join(dir, `run${r}`));
        const { rows } = await writeDatasetFromQuery(conn, query, out);
        expect(rows).toBe(expected);
        expect(out.rows).toBe(expected);
        runs.push(shardHashes(out.dir));
        // No scratch file is left in the artifact.
        expect(readdirSync(out.dir)).toEqual(['shards']);
      }
      expect(runs[0]).toHaveLength(Math.ceil(expected / 7000));
      expect(runs[1]).toEqual(runs[0]);
      expect(runs[2]).toEqual(runs[0]);
      // Every shard but the last holds exactly the bound, and reading them in order gives the query's order.
      const shards = readdirSync(join(dir, 'run0', 'shards')).sort();
      const counts = await Promise.all(
        shards.map(async (f) => Number((await conn.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM read_parquet(${sqlString(join(dir, 'run0', 'shards', f))})`)).getRowObjects()[0]?.n)),
      );
      expect(counts.slice(0, -1).every((n) => n === 7000)).toBe(true);
      const ref: ArtifactRef = {
        hash: 'sha256:test',
        kind: 'dataset',
        dir: join(dir, 'run0'),
        manifest: { hash: 'sha256:test', kind: 'dataset', bytes: 0, meta: {}, files: shards.map((f) => ({ path: `shards/${f}`, hash: '', bytes: 0 })) },
      };
      const unordered = await conn.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM (SELECT id, lag(id) OVER () AS prev FROM ${datasetSql(ref)}) WHERE prev >= id`);
      expect(Number(unordered.getRowObjects()[0]?.n)).toBe(0);
    } finally {
      conn.closeSync();
      delete process.env.FORGE_SHARD_ROWS;
    }
  });

  it('still reads a dataset written as one file by earlier versions', async () => {
    const instance = await duckdbInstance({ tempDirectory: join(dir, 'tmp') });
    const conn = await instance.connect();
    try {
      const old = join(dir, 'old', 'shards');
      mkdirSync(old, { recursive: true });
      await conn.run(`COPY (SELECT 'a' AS id, 'x' AS text, 's' AS source) TO ${sqlString(join(old, 'part-0000.parquet'))} (${PARQUET_OPTIONS})`);
      const ref: ArtifactRef = {
        hash: 'sha256:old',
        kind: 'dataset',
        dir: join(dir, 'old'),
        manifest: { hash: 'sha256:old', kind: 'dataset', bytes: 0, meta: {}, files: [{ path: 'shards/part-0000.parquet', hash: '', bytes: 0 }] },
      };
      expect(Number((await conn.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM ${datasetSql(ref)}`)).getRowObjects()[0]?.n)).toBe(1);
      expect(shardFile('/x', 3)).toBe('/x/part-000003.parquet');
    } finally {
      conn.closeSync();
    }
  });
});
