import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanupTempDirs, closeExecutor, DATASETS, graph, runGraph, tempDir } from '../_sdk/testing/graph.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

// Real data: Gorilla's Hugging Face API docs (resources/data, Apache-2.0), written to Parquet by
// DuckDB directly, the way a user's file would arrive. The expectations are read from the JSON Lines
// source independently of DuckDB.
const API_DOCS = join(DATASETS, 'agent/gorilla/huggingface_api.jsonl');
const records = readFileSync(API_DOCS, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as { api_name: string; domain: string; description: string });

async function projectWithParquet(): Promise<string> {
  const dir = tempDir();
  const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await inst.connect();
  try {
    await conn.run(`COPY (SELECT api_name, domain, description, length(description)::INTEGER AS chars FROM read_json_auto('${API_DOCS}')) TO '${join(dir, 'hf.parquet')}' (FORMAT parquet)`);
  } finally {
    conn.closeSync();
  }
  return dir;
}

describe('source.parquet', () => {
  it('loads every row in file order, numbering ids and keeping the other columns', async () => {
    const dir = await projectWithParquet();
    const run = await runGraph(graph([{ id: 'pq', type: 'source.parquet', params: { path: 'hf.parquet', textField: 'description' } }]), { dir });
    try {
      expect(run.outcome('pq').error).toBeUndefined();
      const rows = await run.rows('pq');
      expect(rows).toHaveLength(records.length);
      expect(rows.map((r) => r.id)).toEqual(records.map((_, i) => `hf:${i + 1}`));
      expect(rows.map((r) => [r.text, r.api_name, r.domain])).toEqual(records.map((r) => [r.description, r.api_name, r.domain]));
      expect(new Set(rows.map((r) => r.source))).toEqual(new Set(['hf']));
      expect(run.artifact('pq', 'out').manifest.schema?.map((c) => [c.name, c.type])).toEqual([
        ['id', 'VARCHAR'],
        ['text', 'VARCHAR'],
        ['source', 'VARCHAR'],
        ['api_name', 'VARCHAR'],
        ['domain', 'VARCHAR'],
        ['chars', 'INTEGER'],
      ]);
    } finally {
      run.close();
    }
  });

  it('fails on a text column that is not text and on duplicated ids, naming the node, the file and the field', async () => {
    const dir = await projectWithParquet();
    // Gorilla lists a few models twice; the error names the duplicate that occurs first in the file.
    const names = records.map((r) => r.api_name);
    const count = (name: string) => names.filter((n) => n === name).length;
    const firstDuplicate = names.find((n) => count(n) > 1);
    expect(firstDuplicate).toBeDefined();
    const run = await runGraph(
      graph([
        { id: 'numeric', type: 'source.parquet', params: { path: 'hf.parquet', textField: 'chars' } },
        { id: 'dupes', type: 'source.parquet', params: { path: 'hf.parquet', textField: 'description', idField: 'api_name' } },
      ]),
      // Both failures are asserted: without this the first to fail stops the run and the other is skipped.
      { dir, continueOnFailure: true },
    );
    try {
      const numeric = run.outcome('numeric');
      expect(numeric).toMatchObject({ state: 'failed', outputs: [], location: { nodeId: 'numeric', file: 'hf.parquet', field: 'chars' } });
      expect(numeric.error).toMatch(/column "chars" has type INTEGER, expected text/);
      const dupes = run.outcome('dupes');
      expect(dupes).toMatchObject({ state: 'failed', outputs: [], location: { nodeId: 'dupes', file: 'hf.parquet', field: 'api_name' } });
      expect(dupes.error).toContain(`id ${JSON.stringify(firstDuplicate)} appears ${count(firstDuplicate ?? '')} times`);
    } finally {
      run.close();
    }
  });
});
