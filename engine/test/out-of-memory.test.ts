// DuckDB running out of its memory limit reaches the user as an error naming the node, the limit
// and the setting that raises it (engine/util/out-of-memory.ts), not as an internal error.
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { NodeError } from '../sdk/node-error.js';
import { explainOutOfMemory } from '../util/out-of-memory.js';

describe('explainOutOfMemory', () => {
  it('turns a real DuckDB out-of-memory error into a node error naming FORGE_DUCKDB_MEMORY', async () => {
    const db = await DuckDBInstance.create(':memory:', { memory_limit: '8MB', threads: '1' });
    const conn = await db.connect();
    let thrown: unknown;
    try {
      // A sort of 2M distinct strings cannot fit in 8 MB, and there is no spill folder here.
      await conn.run("CREATE TABLE t AS SELECT 'row ' || i::VARCHAR || repeat('x', 50) AS s FROM range(2000000) r(i) ORDER BY s DESC");
    } catch (err) {
      thrown = err;
    } finally {
      conn.closeSync();
    }
    expect(String((thrown as Error).message)).toMatch(/Out of Memory Error/);
    const explained = explainOutOfMemory(thrown, 'dedup', 'transform.dedup-near');
    expect(explained).toBeInstanceOf(NodeError);
    expect((explained as NodeError).message).toMatch(/^transform\.dedup-near ran out of DuckDB memory at its limit, FORGE_DUCKDB_MEMORY=/);
    expect((explained as NodeError).message).toContain('Set FORGE_DUCKDB_MEMORY higher');
    expect((explained as NodeError).location).toMatchObject({ nodeId: 'dedup' });
  });

  it('leaves other errors, and node errors, as they are', () => {
    const other = new Error('Conversion Error: could not convert');
    expect(explainOutOfMemory(other, 'n', 't')).toBe(other);
    const own = new NodeError('Out of Memory Error: said by the node itself');
    expect(explainOutOfMemory(own, 'n', 't')).toBe(own);
  });
});
