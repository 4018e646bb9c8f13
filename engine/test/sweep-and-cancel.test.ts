import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GraphDocument } from '../graph/document.js';
import { graph } from '../../nodes/_sdk/testing/graph.js';
import { sweepVariants } from '../graph/sweep.js';
import { Engine } from '../engine.js';
import { cleanupTemp, executedNodes, cachedNodes, tempProject } from './helpers.js';
import { testRegistry } from './nodes/test-nodes.js';

afterEach(cleanupTemp);

function sweepGraph(values: number[]): GraphDocument {
  return graph(
    [
      { id: 'x', type: 'test.const', params: { value: 0 }, sweep: { param: 'value', values } },
      { id: 'sq', type: 'test.square', params: { offset: 1 } },
      { id: 'fit', type: 'test.collect', params: {} },
    ],
    [
      ['x.out', 'sq.in'],
      ['sq.out', 'fit.points'],
    ],
    7,
  );
}

function fitMeta(engine: Engine, runId: string): Record<string, unknown> {
  const row = engine.ws.db.db.prepare("SELECT o.artifact_hash AS h FROM executions e JOIN execution_outputs o ON o.execution_id = e.id WHERE e.run_id = ? AND e.node_id = 'fit'").get(runId) as {
    h: string;
  };
  return engine.ws.store.manifest(row.h).meta;
}

describe('sweeps', () => {
  it('runs the downstream subgraph once per value, fans in, and caches each point separately', async () => {
    const project = tempProject();
    const engine = Engine.open(project, testRegistry());
    try {
      const first = await engine.run(sweepGraph([1, 2, 3]), { baseDir: project });
      expect(first.status).toBe('succeeded');
      expect(executedNodes(engine, first.runId)).toEqual(['fit', 'sq[x.value=1]', 'sq[x.value=2]', 'sq[x.value=3]', 'x[x.value=1]', 'x[x.value=2]', 'x[x.value=3]']);
      const meta = fitMeta(engine, first.runId);
      expect(meta.n).toBe(3);
      expect(meta.sum).toBe(2 + 5 + 10);
      expect(JSON.parse(String(meta.variants))).toEqual([{ 'x.value': 1 }, { 'x.value': 2 }, { 'x.value': 3 }]);

      const again = await engine.run(sweepGraph([1, 2, 3]), { baseDir: project });
      expect(executedNodes(engine, again.runId)).toEqual([]);
      expect(cachedNodes(engine, again.runId)).toHaveLength(7);

      const wider = await engine.run(sweepGraph([1, 2, 3, 4]), { baseDir: project });
      expect(executedNodes(engine, wider.runId)).toEqual(['fit', 'sq[x.value=4]', 'x[x.value=4]']);
      expect(fitMeta(engine, wider.runId).sum).toBe(2 + 5 + 10 + 17);
    } finally {
      engine.close();
    }
  });

  it('rejects a sweep over a param the node does not have, or values the schema refuses', () => {
    const project = tempProject();
    const engine = Engine.open(project, testRegistry());
    try {
      const doc = sweepGraph([1]);
      (doc.nodes[0] as GraphDocument['nodes'][number]).sweep = { param: 'nope', values: [1] };
      expect(engine.validate(doc).diagnostics.map((d) => [d.code, d.nodeId])).toContainEqual(['invalid-sweep', 'x']);
      const bad = sweepGraph([1]);
      (bad.nodes[0] as GraphDocument['nodes'][number]).sweep = { param: 'value', values: ['text'] };
      expect(engine.validate(bad).diagnostics.some((d) => d.code === 'invalid-sweep' && /not a valid param/.test(d.message))).toBe(true);
    } finally {
      engine.close();
    }
  });

  it('draws Dirichlet samples that sum to one, reproducibly from the seed', () => {
    const spec = { dirichlet: { params: ['a', 'b', 'c'], samples: 5, alpha: 1 } };
    const v1 = sweepVariants('mix', spec, 3);
    expect(v1).toEqual(sweepVariants('mix', spec, 3));
    expect(v1).not.toEqual(sweepVariants('mix', spec, 4));
    for (const v of v1) {
      const total = Object.values(v).reduce((s: number, x) => s + Number(x), 0);
      expect(total).toBeCloseTo(1, 6);
      expect(Object.keys(v)).toEqual(['mix.a', 'mix.b', 'mix.c']);
    }
  });
});

describe('cancellation and failures', () => {
  it('cancel records the run as cancelled and publishes nothing half-written', async () => {
    const project = tempProject();
    const engine = Engine.open(project, testRegistry());
    try {
      const doc = graph(
        [
          { id: 'slow', type: 'test.slow', params: { ms: 10_000 } },
          { id: 'after', type: 'test.square', params: {} },
        ],
        [['slow.out', 'after.in']],
        0,
      );
      const controller = new AbortController();
      const started = Date.now();
      const run = engine.run(doc, {
        baseDir: project,
        signal: controller.signal,
        onEvent: (e) => {
          if (e.type === 'node.progress') controller.abort();
        },
      });
      const summary = await run;
      expect(Date.now() - started).toBeLessThan(5000);
      expect(summary.status).toBe('cancelled');
      const rows = engine.ws.db.db.prepare('SELECT node_id, status FROM executions WHERE run_id = ? ORDER BY node_id').all(summary.runId);
      expect(rows).toEqual([
        { node_id: 'after', status: 'skipped' },
        { node_id: 'slow', status: 'cancelled' },
      ]);
      const runRow = engine.ws.db.db.prepare('SELECT status FROM runs WHERE id = ?').get(summary.runId) as { status: string };
      expect(runRow.status).toBe('cancelled');
      expect((engine.ws.db.db.prepare('SELECT count(*) AS n FROM artifacts').get() as { n: number }).n).toBe(0);
      expect(readdirSync(join(project, '.forge/staging'))).toEqual([]);
    } finally {
      engine.close();
    }
  });

  it('a failing node stops only its dependents; independent branches finish', async () => {
    const project = tempProject();
    const engine = Engine.open(project, testRegistry());
    try {
      const doc = graph(
        [
          { id: 'bad', type: 'test.fail', params: {} },
          { id: 'below', type: 'test.square', params: {} },
          { id: 'ok', type: 'test.const', params: { value: 3 } },
          { id: 'ok2', type: 'test.square', params: {} },
        ],
        [
          ['bad.out', 'below.in'],
          ['ok.out', 'ok2.in'],
        ],
        0,
      );
      const summary = await engine.run(doc, { baseDir: project, continueOnFailure: true });
      expect(summary.status).toBe('failed');
      const state = Object.fromEntries(summary.nodes.map((n) => [n.nodeId, n.state]));
      expect(state).toEqual({ bad: 'failed', below: 'skipped', ok: 'executed', ok2: 'executed' });
      expect(summary.failed).toEqual(['bad']);
      expect(summary.skipped).toEqual([{ nodeId: 'below', reason: 'upstream node bad failed' }]);
      const rows = engine.ws.db.db.prepare('SELECT node_id, status, error FROM executions WHERE run_id = ? ORDER BY node_id').all(summary.runId);
      expect(rows).toEqual([
        { node_id: 'bad', status: 'failed', error: expect.stringMatching(/boom/) as unknown },
        { node_id: 'below', status: 'skipped', error: 'upstream node bad failed' },
        { node_id: 'ok', status: 'succeeded', error: null },
        { node_id: 'ok2', status: 'succeeded', error: null },
      ]);
      const bad = summary.nodes.find((n) => n.nodeId === 'bad');
      expect(bad?.error).toMatch(/internal error in test.fail: boom/);
      expect(bad?.location?.nodeId).toBe('bad');
      // Every execution lease is gone: succeeded ones released in their result's commit, the failed one after it.
      expect(engine.ws.db.db.prepare('SELECT count(*) AS n FROM execution_leases').get()).toEqual({ n: 0 });
    } finally {
      engine.close();
    }
  });

  it('without continueOnFailure, the first failure stops nodes that have not started', async () => {
    const project = tempProject();
    const engine = Engine.open(project, testRegistry());
    try {
      const doc = graph(
        [
          { id: 'bad', type: 'test.fail', params: {} },
          { id: 'ok', type: 'test.const', params: { value: 3 } },
          { id: 'ok2', type: 'test.square', params: {} },
        ],
        [['ok.out', 'ok2.in']],
        0,
      );
      // One slot: `bad` (first in document order) runs while `ok` waits for the slot.
      const summary = await engine.run(doc, { baseDir: project, concurrency: 1 });
      expect(summary.status).toBe('failed');
      expect(Object.fromEntries(summary.nodes.map((n) => [n.nodeId, n.state]))).toEqual({ bad: 'failed', ok: 'skipped', ok2: 'skipped' });
      expect(summary.failed).toEqual(['bad']);
      expect(summary.skipped).toEqual([
        { nodeId: 'ok', reason: 'run stopped after node bad failed (continueOnFailure is off)' },
        { nodeId: 'ok2', reason: 'upstream node ok skipped' },
      ]);
      const statuses = engine.ws.db.db.prepare('SELECT node_id, status FROM executions WHERE run_id = ? ORDER BY node_id').all(summary.runId);
      expect(statuses).toEqual([
        { node_id: 'bad', status: 'failed' },
        { node_id: 'ok', status: 'skipped' },
        { node_id: 'ok2', status: 'skipped' },
      ]);
    } finally {
      engine.close();
    }
  });
});

describe('worker pool', () => {
  it('runs worker nodes off the main thread, which stays responsive, and cancels them', async () => {
    const project = tempProject();
    const engine = Engine.open(project, testRegistry());
    try {
      const doc = graph(
        [
          { id: 'a', type: 'test.spin', params: { ms: 600 } },
          { id: 'b', type: 'test.spin', params: { ms: 601 } },
        ],
        [],
        0,
      );
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      const t0 = Date.now();
      const summary = await engine.run(doc, { baseDir: project });
      clearInterval(timer);
      const elapsed = Date.now() - t0;
      expect(summary.status).toBe('succeeded');
      for (const n of summary.nodes) {
        const meta = engine.ws.store.manifest(n.outputs[0]?.hash as string).meta;
        expect(meta.value).toBe(1); // 1 = not the main thread
      }
      // The main thread kept ticking while both nodes spun: at least a third of the possible ticks.
      expect(ticks).toBeGreaterThan(elapsed / 10 / 3);

      const controller = new AbortController();
      const long: GraphDocument = { ...doc, nodes: [{ id: 'forever', type: 'test.spin', params: { ms: 60_000 } }] };
      const started = Date.now();
      const cancelled = await engine.run(long, {
        baseDir: project,
        signal: controller.signal,
        onEvent: (e) => {
          if (e.type === 'node.started') setTimeout(() => controller.abort(), 200);
        },
      });
      expect(cancelled.status).toBe('cancelled');
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(cancelled.nodes[0]?.state).toBe('cancelled');
    } finally {
      engine.close();
    }
  });
});
