import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NodeRegistry } from '../../engine/registry.js';
import { duckdbInstance } from '../../engine/store/duckdb.js';
import { NODE_TYPES } from '../index.js';
import { cleanupTempDirs, closeExecutor, graph, runGraph, tempDir } from '../_sdk/testing/graph.js';
import parquetGlob from './index.js';

const registry = new NodeRegistry(NODE_TYPES.some((t) => t.type === parquetGlob.type) ? NODE_TYPES : [...NODE_TYPES, parquetGlob]);
afterEach(cleanupTempDirs);
afterAll(closeExecutor);

/** Writes FineWeb-like Parquet shards (text, id, dump, url, date, language_score, token_count) with DuckDB. */
async function fineweb(dir: string, shards: { file: string; rows: number; from: number; nullText?: boolean }[]): Promise<void> {
  const inst = await duckdbInstance({ tempDirectory: join(dir, 'tmp-duckdb') });
  const conn = await inst.connect();
  try {
    for (const s of shards) {
      mkdirSync(join(dir, s.file, '..'), { recursive: true });
      await conn.run(
        `COPY (SELECT CASE WHEN ${s.nullText ? 'i = ' + String(s.from + 1) : 'false'} THEN NULL ELSE 'web page ' || i || ' about tools' END AS text,
                      '<urn:uuid:' || i || '>' AS id, 'CC-MAIN-2024-10' AS dump, 'https://w' || i || '.example/' AS url,
                      '2024-02-2' || (i % 10) || 'T00:00:00Z' AS date, 0.5 + (i % 5) / 10 AS language_score, 3 + i % 7 AS token_count
               FROM range(${s.from}, ${s.from + s.rows}) r(i) ORDER BY i) TO '${join(dir, s.file)}' (FORMAT parquet)`,
      );
    }
  } finally {
    conn.closeSync();
  }
}

describe('source.parquet-glob node', () => {
  it('reads a folder of FineWeb-like shards shard by shard, one output shard per input shard, keeping url and metadata columns', async () => {
    const dir = tempDir();
    await fineweb(dir, [
      { file: 'fw/10BT/000_00000.parquet', rows: 300, from: 0 },
      { file: 'fw/10BT/001_00000.parquet', rows: 200, from: 300 },
      { file: 'fw/10BT/002_00000.parquet', rows: 0, from: 500 },
      { file: 'fw/other/ignored.txt.parquet-not', rows: 5, from: 900 },
    ]);
    const run = await runGraph(graph([{ id: 'fw', type: 'source.parquet-glob', params: { path: 'fw/10BT' } }]), { dir, registry });
    try {
      expect(run.outcome('fw').error).toBeUndefined();
      const rows = await run.rows('fw');
      expect(rows).toHaveLength(500);
      expect(rows[0]).toEqual({
        id: '<urn:uuid:0>',
        text: 'web page 0 about tools',
        source: 'fw/10BT',
        dump: 'CC-MAIN-2024-10',
        url: 'https://w0.example/',
        date: '2024-02-20T00:00:00Z',
        language_score: 0.5,
        token_count: '3',
      });
      // File order, then row order within each file.
      expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 500 }, (_, i) => `<urn:uuid:${i}>`));
      const artifact = run.artifact('fw', 'out');
      const shards = artifact.manifest.files.filter((f) => f.path.startsWith('shards/'));
      expect(shards.map((f) => f.path)).toEqual(['shards/part-000000.parquet', 'shards/part-000001.parquet', 'shards/part-000002.parquet']);
      expect(artifact.manifest.rows).toBe(500);
      expect(artifact.manifest.meta).toMatchObject({ files: 3 });
      expect(artifact.manifest.schema?.map((c) => c.name)).toEqual(['id', 'text', 'source', 'dump', 'url', 'date', 'language_score', 'token_count']);
    } finally {
      run.close();
    }
  });

  it('takes ids from another column or numbers rows per file, and a glob and a source name', async () => {
    const dir = tempDir();
    await fineweb(dir, [
      { file: 'a/x.parquet', rows: 2, from: 0 },
      { file: 'b/y.parquet', rows: 1, from: 2 },
    ]);
    const byUrl = await runGraph(graph([{ id: 'fw', type: 'source.parquet-glob', params: { path: '*/*.parquet', idField: 'url', source: 'fineweb' } }]), { dir, registry });
    try {
      expect(byUrl.outcome('fw').error).toBeUndefined();
      const rows = await byUrl.rows('fw');
      expect(rows.map((r) => [r.id, r.source])).toEqual([
        ['https://w0.example/', 'fineweb'],
        ['https://w1.example/', 'fineweb'],
        ['https://w2.example/', 'fineweb'],
      ]);
      // The column that gave the ids becomes `id`; the files' own `id` column would clash, so it is replaced.
      expect(Object.keys(rows[0] ?? {})).toEqual(['id', 'text', 'source', 'dump', 'date', 'language_score', 'token_count']);
    } finally {
      byUrl.close();
    }

    const bare = tempDir();
    const inst = await duckdbInstance({ tempDirectory: join(bare, 'tmp-duckdb') });
    const conn = await inst.connect();
    mkdirSync(join(bare, 'p'));
    await conn.run(`COPY (SELECT 'doc ' || i AS body, i AS n FROM range(3) r(i) ORDER BY i) TO '${join(bare, 'p/s1.parquet')}' (FORMAT parquet)`);
    conn.closeSync();
    const numbered = await runGraph(graph([{ id: 'fw', type: 'source.parquet-glob', params: { path: 'p/*.parquet', textField: 'body' } }]), { dir: bare, registry });
    try {
      expect(numbered.outcome('fw').error).toBeUndefined();
      expect((await numbered.rows('fw')).map((r) => [r.id, r.text, r.source, r.n])).toEqual([
        ['p/s1.parquet:1', 'doc 0', 'p', '0'],
        ['p/s1.parquet:2', 'doc 1', 'p', '1'],
        ['p/s1.parquet:3', 'doc 2', 'p', '2'],
      ]);
    } finally {
      numbered.close();
    }
  });

  it('names the shard with null texts, and the shard whose columns differ', async () => {
    const dir = tempDir();
    await fineweb(dir, [
      { file: 'fw/a.parquet', rows: 3, from: 0 },
      { file: 'fw/b.parquet', rows: 3, from: 3, nullText: true },
    ]);
    const run = await runGraph(graph([{ id: 'fw', type: 'source.parquet-glob', params: { path: 'fw' } }]), { dir, registry });
    try {
      expect(run.outcome('fw').error).toContain('1 row(s) have no text in column "text"');
      expect(run.outcome('fw').location).toMatchObject({ nodeId: 'fw', file: 'fw/b.parquet', field: 'text' });
    } finally {
      run.close();
    }

    const other = tempDir();
    await fineweb(other, [{ file: 'fw/a.parquet', rows: 3, from: 0 }]);
    const inst = await duckdbInstance({ tempDirectory: join(other, 'tmp-duckdb') });
    const conn = await inst.connect();
    await conn.run(`COPY (SELECT 'x' AS text, 'y' AS id, 1 AS extra) TO '${join(other, 'fw/b.parquet')}' (FORMAT parquet)`);
    conn.closeSync();
    const bad = await runGraph(graph([{ id: 'fw', type: 'source.parquet-glob', params: { path: 'fw' } }]), { dir: other, registry });
    try {
      expect(bad.outcome('fw').error).toContain('columns differ from fw/a.parquet');
      expect(bad.outcome('fw').location).toMatchObject({ file: 'fw/b.parquet' });
    } finally {
      bad.close();
    }
  });
});
