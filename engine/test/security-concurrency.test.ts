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
