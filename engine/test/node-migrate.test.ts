import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Engine } from '../engine.js';
import { GraphLoadError } from '../graph/errors.js';
import type { GraphDocument } from '../graph/document.js';
import { NodeRegistry } from '../registry.js';
import { defineNode } from '../sdk/types.js';
import { cleanupTemp, tempProject } from './helpers.js';

afterEach(cleanupTemp);

/** Version 1 called the param `n`; version 2 renamed it `count`; version 3 added `scale` (default 1). */
const counter = defineNode({
  type: 'test.counter',
  version: 3,
  category: 'Test',
  title: 'Counter',
  description: 'Outputs { value: count × scale }.',
  inputs: {},
  outputs: { out: { kind: 'metrics' } },
  params: z.object({ count: z.number(), scale: z.number().default(1) }),
  deterministic: true,
  migrate(params, fromVersion) {
    const out = { ...params };
    if (fromVersion < 2) {
      if (typeof out.n !== 'number') throw new Error('param "n" must be a number to become "count"');
      out.count = out.n;
      delete out.n;
    }
    return out;
  },
  async run(ctx) {
    const value = ctx.params.count * ctx.params.scale;
    writeFileSync(ctx.output('out').file('metrics.json'), JSON.stringify({ value }));
    ctx.output('out').setMeta('value', value);
  },
  module: import.meta.url,
});

/** Version 2 with no migration: older documents are refused. */
const strict = defineNode({ ...counter, type: 'test.strict', version: 2, migrate: undefined });

const doc = (type: string, typeVersion: number, params: Record<string, unknown>): GraphDocument => ({
  format: 'forge-graph',
  version: 2,
  seed: 0,
  nodes: [{ id: 'c', type, typeVersion, params }],
  edges: [],
});

describe('node type versions', () => {
  const registry = new NodeRegistry([counter, strict], import.meta.url);

  it('migrates an older typeVersion, says so, runs the migrated params and records the migrated graph', async () => {
    const project = tempProject();
    const engine = Engine.open(project, registry);
    try {
      const result = engine.validate(doc('test.counter', 1, { n: 4 }));
      expect(result.diagnostics).toEqual([
        expect.objectContaining({
          severity: 'warning',
          code: 'migrated-type-version',
          nodeId: 'c',
          field: 'typeVersion',
          message: expect.stringMatching(/from test\.counter version 1 to 3/) as unknown,
        }),
      ]);
      expect(result.graph?.params.get('c')).toEqual({ count: 4, scale: 1 });

      const summary = await engine.run(doc('test.counter', 1, { n: 4 }), { baseDir: project });
      expect(summary.status).toBe('succeeded');
      const out = summary.nodes[0]?.outputs[0];
      expect(engine.ws.store.manifest(out?.hash ?? '').meta.value).toBe(4);
      const row = engine.ws.db.db.prepare('SELECT g.doc FROM runs r JOIN graphs g ON g.hash = r.graph_hash WHERE r.id = ?').get(summary.runId) as { doc: string };
      expect(JSON.parse(row.doc).nodes[0]).toMatchObject({ typeVersion: 3, params: { count: 4 } });

      const exported = await engine.exportConfig(doc('test.counter', 1, { n: 4 }), project);
      expect(exported.nodes[0]).toMatchObject({ typeVersion: 3, params: { count: 4 } });
    } finally {
      engine.close();
    }
  });

  it('a current or absent typeVersion is not migrated', () => {
    const engine = Engine.open(tempProject(), registry);
    try {
      expect(engine.validate(doc('test.counter', 3, { count: 2 })).diagnostics).toEqual([]);
      expect(engine.validate({ ...doc('test.counter', 3, { count: 2 }), nodes: [{ id: 'c', type: 'test.counter', params: { count: 2 } }] }).diagnostics).toEqual([]);
    } finally {
      engine.close();
    }
  });

  it('refuses an older typeVersion without a migration, and a migration that fails, naming node and reason', async () => {
    const project = tempProject();
    const engine = Engine.open(project, registry);
    try {
      const refused = engine.validate(doc('test.strict', 1, { count: 1 }));
      expect(refused.graph).toBeUndefined();
      expect(refused.diagnostics).toEqual([
        expect.objectContaining({
          severity: 'error',
          code: 'outdated-type-version',
          nodeId: 'c',
          message: expect.stringMatching(/test\.strict version 1; this engine has version 2 and no migration from version 1/) as unknown,
        }),
      ]);
      await expect(engine.run(doc('test.strict', 1, { count: 1 }), { baseDir: project })).rejects.toBeInstanceOf(GraphLoadError);

      const failed = engine.validate(doc('test.counter', 1, { n: 'four' }));
      expect(failed.diagnostics).toEqual([
        expect.objectContaining({
          severity: 'error',
          code: 'outdated-type-version',
          nodeId: 'c',
          message: expect.stringMatching(/cannot migrate test\.counter params from version 1 to 3: param "n" must be a number/) as unknown,
        }),
      ]);
    } finally {
      engine.close();
    }
  });
});
