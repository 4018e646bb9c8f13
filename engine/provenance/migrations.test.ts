import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from './migrations.js';

// A shipped migration has run on users' databases; its text must never change (add a new one instead).
const SHIPPED = ['fca2ec7cacfe8b8c3f20bf7e703b591ba6a41e3ac9cc8e9e44f882e04dd4df9b'];

describe('provenance migrations', () => {
  it('keep the exact text of every shipped migration', () => {
    const hashes = MIGRATIONS.map((m) => createHash('sha256').update(m).digest('hex'));
    expect(hashes.slice(0, SHIPPED.length)).toEqual(SHIPPED);
  });

  it('create the input and output link tables with their artifact indexes', () => {
    for (const t of ['execution_inputs', 'execution_outputs']) {
      expect(MIGRATIONS[0]).toContain(`CREATE TABLE ${t} (`);
      expect(MIGRATIONS[0]).toContain(`CREATE INDEX ${t}_artifact ON ${t}(artifact_hash);`);
    }
  });

  it("look up a node's latest succeeded execution through an index, not a scan of every execution", () => {
    const db = new Database(':memory:');
    try {
      for (const m of MIGRATIONS) db.exec(m);
      const plan = db.prepare("EXPLAIN QUERY PLAN SELECT id FROM executions WHERE node_id = ? AND status = 'succeeded' ORDER BY finished_at DESC LIMIT 1").all('keep') as { detail: string }[];
      expect(plan.map((p) => p.detail).join('\n')).toMatch(/SEARCH executions USING INDEX executions_node \(node_id=\? AND status=\?\)/);
    } finally {
      db.close();
    }
  });
});
