import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTemp, openEngine, runFile, tempProject } from './helpers.js';

afterAll(cleanupTemp);

describe('two runs on one workspace', () => {
  it('never duplicate an execution: the second waits for the first and reuses its results', async () => {
    const project = tempProject();
    const a = openEngine(project);
    const b = openEngine(project);
    const [ra, rb] = await Promise.all([runFile(a, project), runFile(b, project)]);
    expect(ra.status).toBe('succeeded');
    expect(rb.status).toBe('succeeded');
    const executed = a.ws.db.db.prepare("SELECT node_id, count(*) AS n FROM executions WHERE cached = 0 AND status = 'succeeded' GROUP BY node_id").all() as { node_id: string; n: number }[];
    expect(executed.length).toBe(ra.nodes.length);
    expect(executed.every((e) => e.n === 1)).toBe(true);
    // Same results on both sides, and no lease left behind.
    expect(rb.nodes.map((n) => n.outputs.map((o) => o.hash))).toEqual(ra.nodes.map((n) => n.outputs.map((o) => o.hash)));
    expect(a.ws.db.db.prepare('SELECT count(*) AS n FROM execution_leases').get()).toEqual({ n: 0 });
    a.close();
    b.close();
  });
});

describe('staging sweeps', () => {
  it('keep the folder of an execution another process started after the sweep began', async () => {
    const { existsSync } = await import('node:fs');
    const project = tempProject();
    const engine = openEngine(project);
    const db = engine.ws.db.db;
    const runId = 'r-live';
    db.prepare("INSERT OR IGNORE INTO graphs (hash, name, doc, created_at) VALUES ('g', NULL, '{}', '2026-01-01')").run();
    db.prepare(
      "INSERT INTO runs (id, graph_hash, graph_path, trigger, mode, target, status, started_at, environment, pid, host) VALUES (?, 'g', NULL, 'test', 'all', NULL, 'running', '2026-01-01', '{}', ?, 'h')",
    ).run(runId, process.pid);
    const staged: string[] = [];
    // The sweep lists staging, then asks about each folder: the other process records its
    // execution and creates the folder in between, as it always does (record first, then mkdir).
    const ids = ['33333333-3333-4333-8333-333333333333', '44444444-4444-4444-8444-444444444444'];
    const snapshot = engine.ws.db.liveExecutionIds(); // what a sweep used to decide from
    for (const id of ids) staged.push(engine.ws.store.createStaging(id, 'out'));
    db.prepare(
      "INSERT INTO executions (id, run_id, node_id, node_type, node_version, code_hash, params, cache_key, status, cached, started_at) VALUES (?, ?, 'n', 't', 1, 'c', '{}', 'k', 'running', 0, '2026-01-01')",
    ).run(ids[0], runId);
    expect(snapshot.has(ids[0] as string)).toBe(false);
    engine.ws.store.sweepStaging((id) => engine.ws.db.isExecutionLive(id));
    expect(existsSync(staged[0] as string)).toBe(true);
    expect(existsSync(staged[1] as string)).toBe(false);
    engine.close();
  });
});
