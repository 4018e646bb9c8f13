import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanupTempDirs, closeExecutor, graph, runGraph, tempDir } from '../_sdk/testing/graph.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

const RECORDS = [
  { id: 'a', text: 'get_weather(city="Oslo")', lang: 'python', stars: 5 },
  { id: 'b', text: 'line one\nline two', lang: null, stars: 3 },
  { id: 'c', text: 'ünïcødé ✓', lang: 'js', stars: 4 },
];
const files = { 'd.jsonl': RECORDS.map((r) => JSON.stringify(r)).join('\n') };
const load = { id: 'src', type: 'source.jsonl', params: { path: 'd.jsonl', idField: 'id', source: 'calls' } };
const expected = RECORDS.map((r) => ({ id: r.id, text: r.text, source: 'calls', lang: r.lang, stars: r.stars }));

describe('sink.write', () => {
  it('writes every row and column as JSON Lines or Parquet and reports rows, bytes and the file hash', async () => {
    const run = await runGraph(
      graph(
        [load, { id: 'jsonl', type: 'sink.write', params: { path: 'out/nested/export.jsonl' } }, { id: 'pq', type: 'sink.write', params: { path: 'out/export.parquet', format: 'parquet' } }],
        [
          ['src.out', 'jsonl.in'],
          ['src.out', 'pq.in'],
        ],
      ),
      { files },
    );
    try {
      for (const n of ['jsonl', 'pq']) expect(run.outcome(n).error).toBeUndefined();
      const jsonlFile = join(run.dir, 'out/nested/export.jsonl');
      const lines = readFileSync(jsonlFile, 'utf8').trim().split('\n');
      expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(expected);

      const bytes = readFileSync(jsonlFile);
      expect(run.metrics('jsonl', 'report')).toEqual({
        rows: 3,
        bytes: bytes.length,
        fileHash: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
        path: 'out/nested/export.jsonl',
      });

      const parquetFile = join(run.dir, 'out/export.parquet');
      const inst = await DuckDBInstance.create(':memory:');
      const conn = await inst.connect();
      try {
        const back = (await conn.runAndReadAll(`SELECT id, text, source, lang, stars::INTEGER AS stars FROM read_parquet('${parquetFile}')`)).getRowObjectsJson();
        expect(back).toEqual(expected);
      } finally {
        conn.closeSync();
      }
      expect(run.metrics('pq', 'report')).toMatchObject({ rows: 3, bytes: statSync(parquetFile).size });
      // Written by rename from a temp file: nothing else is left beside the outputs.
      expect(readdirSync(join(run.dir, 'out')).sort()).toEqual(['export.parquet', 'nested']);
      expect(readdirSync(join(run.dir, 'out/nested'))).toEqual(['export.jsonl']);
    } finally {
      run.close();
    }
  });

  it('fails when the target is a folder, naming the node, the file and params.path, and leaves no temp file', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'taken'));
    const run = await runGraph(graph([load, { id: 'write', type: 'sink.write', params: { path: 'taken' } }], [['src.out', 'write.in']]), { dir, files });
    try {
      const o = run.outcome('write');
      expect(o).toMatchObject({ state: 'failed', outputs: [], location: { nodeId: 'write', file: 'taken', field: 'params.path' } });
      expect(o.error).toMatch(/cannot write: /);
      expect(statSync(join(dir, 'taken')).isDirectory()).toBe(true);
      expect(readdirSync(dir).filter((f) => f.startsWith('taken'))).toEqual(['taken']);
    } finally {
      run.close();
    }
  });

  it('fails when a folder of the target path is a file, naming params.path instead of an internal error', async () => {
    const run = await runGraph(graph([load, { id: 'write', type: 'sink.write', params: { path: 'd.jsonl/out/train.jsonl' } }], [['src.out', 'write.in']]), { files });
    try {
      const o = run.outcome('write');
      expect(o).toMatchObject({ state: 'failed', outputs: [], location: { nodeId: 'write', file: 'd.jsonl/out/train.jsonl', field: 'params.path' } });
      expect(o.error).toMatch(/^cannot create the folder of d\.jsonl\/out\/train\.jsonl: /);
    } finally {
      run.close();
    }
  });
});
