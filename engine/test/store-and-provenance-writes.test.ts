import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProvenanceDb } from '../provenance/db.js';
import type { ProvenanceEvent } from '../provenance/events.js';
import { ArtifactStore } from '../store/artifact-store.js';

const dirs: string[] = [];
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'forge-store-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('staging folders', () => {
  it('creates one folder per output port, publishes, and discards the emptied execution folder', async () => {
    const store = new ArtifactStore(join(temp(), '.forge'));
    const a = store.createStaging('exec-1', 'out');
    const b = store.createStaging('exec-1', 'rejected');
    writeFileSync(join(a, 'x.json'), '{"a":1}');
    writeFileSync(join(b, 'y.json'), '{"b":2}');
    const m = await store.publish(a, { kind: 'metrics', meta: {} });
    expect(store.has(m.hash)).toBe(true);
    // One port published, one not: discarding removes the rest recursively.
    store.discardStaging('exec-1');
    expect(readdirSync(store.stagingDir)).toEqual([]);
    // Discarding twice (the scheduler's catch and finally) or with no outputs at all is harmless.
    store.discardStaging('exec-1');
    store.discardStaging('never-created');
  });

  it('recreates a missing staging root', () => {
    const store = new ArtifactStore(join(temp(), '.forge'));
    rmSync(store.stagingDir, { recursive: true });
    const dir = store.createStaging('exec-2', 'out');
    expect(existsSync(dir)).toBe(true);
    mkdirSync(join(dir, 'sub'));
    writeFileSync(`${dir}.load.parquet`, 'side file next to the output folder');
    store.discardStaging('exec-2');
    expect(readdirSync(store.stagingDir)).toEqual([]);
  });

  it('sweeps what dead executions left and keeps live ones', () => {
    const store = new ArtifactStore(join(temp(), '.forge'));
    store.createStaging('dead-1', 'out');
    store.createStaging('dead-1', 'rejected');
    store.createStaging('live-1', 'out');
    expect(store.sweepStaging((id) => id === 'live-1')).toBe(1);
    expect(readdirSync(store.stagingDir)).toEqual(['live-1.out']);
  });
});

describe('ProvenanceDb.recordAll', () => {
  it('writes all events of a batch or none', () => {
    const db = new ProvenanceDb(join(temp(), 'prov.db'));
    try {
      const count = () => (db.db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
      db.recordAll([
        { type: 'graph.saved', hash: 'sha256:g1', name: 'one', doc: '{}' },
        { type: 'graph.saved', hash: 'sha256:g2', name: 'two', doc: '{}' },
      ]);
      expect(count()).toBe(2);
      // The second event violates a foreign key (no such run): the first one must not stay either.
      const bad: ProvenanceEvent[] = [
        { type: 'graph.saved', hash: 'sha256:g3', name: 'three', doc: '{}' },
        { type: 'run.finished', runId: 'no-such-run', status: 'succeeded', error: null },
        {
          type: 'execution.skipped',
          runId: 'no-such-run',
          executionId: 'e1',
          nodeId: 'n',
          nodeType: 't',
          nodeVersion: 1,
          reason: 'x',
        },
      ];
      expect(() => db.recordAll(bad)).toThrow();
      expect(count()).toBe(2);
      expect(db.db.prepare("SELECT count(*) AS n FROM graphs WHERE hash = 'sha256:g3'").get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });
});
