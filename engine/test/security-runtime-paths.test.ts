import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { remapUnit } from '../exec/queue/protocol.js';
import type { WorkUnit } from '../exec/work-unit.js';
import type { GraphDocument } from '../graph/document.js';
import { checkRuntimePath } from '../security/runtime-paths.js';
import { UntrustedGraphError } from '../security/trust.js';
import { cleanupTemp, openEngine, tempProject } from './helpers.js';
import { createRegistry } from './nodes/path-nodes.js';

const outsiders: string[] = [];
afterAll(() => {
  cleanupTemp();
  for (const d of outsiders.splice(0)) rmSync(d, { recursive: true, force: true });
});

function graph(params: { declared?: string; extra?: string }): GraphDocument {
  return { format: 'forge-graph', version: 2, seed: 1, nodes: [{ id: 'opener', type: 'test.open', params }], edges: [] } as GraphDocument;
}

/** A project whose graph folder is `<project>/graphs`, and a secret in a folder beside the project. */
function setup() {
  const project = tempProject();
  const graphDir = join(project, 'graphs');
  mkdirSync(graphDir);
  writeFileSync(join(graphDir, 'inside.txt'), 'fine\n');
  const outside = mkdtempSync(join(tmpdir(), 'forge-outside-'));
  outsiders.push(outside);
  writeFileSync(join(outside, 'secret.txt'), 'top secret\n');
  const engine = openEngine(project, createRegistry());
  return { project, graphDir, outside, engine };
}

describe('ctx.resolvePath confines what a node opens at run time', () => {
  it('lets a node open an undeclared path inside the graph folder', async () => {
    const { graphDir, engine } = setup();
    const summary = await engine.run(graph({ extra: 'inside.txt' }), { baseDir: graphDir, trigger: 'test' });
    expect(summary.status).toBe('succeeded');
    engine.close();
  });

  it('refuses an undeclared ../ escape even under trust, naming the node, the param and the path', async () => {
    const { graphDir, outside, engine } = setup();
    // Relative, climbing out of the graph folder to the filesystem root and down into the secret's folder.
    const rel = `${'../'.repeat(graphDir.split('/').length - 1)}${outside.slice(1)}/secret.txt`;
    const summary = await engine.run(graph({ extra: rel }), { baseDir: graphDir, trigger: 'test', trust: true });
    expect(summary.status).toBe('failed');
    const failed = summary.nodes.find((n) => n.nodeId === 'opener');
    expect(failed?.state).toBe('failed');
    expect(failed?.error).toMatch(/node opener opened .*secret\.txt \(params\.extra\)/);
    expect(failed?.error).toMatch(/did not declare it, so trust cannot cover it/);
    expect(failed?.location).toMatchObject({ nodeId: 'opener', field: 'params.extra', file: rel });
    engine.close();
  });

  it('refuses a symlink inside the graph folder that leads outside, naming where it resolves', async () => {
    const { graphDir, outside, engine } = setup();
    symlinkSync(outside, join(graphDir, 'innocent'));
    const summary = await engine.run(graph({ extra: 'innocent/secret.txt' }), { baseDir: graphDir, trigger: 'test', trust: true });
    const node = summary.nodes.find((n) => n.nodeId === 'opener');
    expect(node?.state).toBe('failed');
    expect(node?.error).toContain(`it resolves to ${realpathSync(outside)}/secret.txt`);
    engine.close();
  });

  it('lets a node open an undeclared path under a granted folder, and records the grant in provenance', async () => {
    const { graphDir, outside, engine } = setup();
    engine.granted = [outside];
    const summary = await engine.run(graph({ extra: join(outside, 'secret.txt') }), { baseDir: graphDir, trigger: 'test' });
    expect(summary.status).toBe('succeeded');
    const run = engine.ws.queries.run(summary.runId);
    expect(run.environment?.grantedFolders).toEqual([realpathSync(outside)]);
    engine.close();
  });

  it('a per-run --allow grant counts too, and is what provenance records for that run', async () => {
    const { graphDir, outside, engine } = setup();
    const summary = await engine.run(graph({ extra: join(outside, 'secret.txt') }), { baseDir: graphDir, trigger: 'test', allow: [outside] });
    expect(summary.status).toBe('succeeded');
    expect(engine.ws.queries.run(summary.runId).environment?.grantedFolders).toEqual([realpathSync(outside)]);
    // Forced: a cached result reads nothing, so only a fresh execution shows the grant is gone.
    const plain = await engine.run(graph({ extra: join(outside, 'secret.txt') }), { baseDir: graphDir, trigger: 'test', force: true });
    expect(plain.status).toBe('failed');
    expect(engine.ws.queries.run(plain.runId).environment?.grantedFolders).toEqual([]);
    engine.close();
  });

  it('a declared outside path needs trust before the run, and once trusted the node may open it', async () => {
    const { graphDir, outside, engine } = setup();
    const doc = graph({ declared: join(outside, 'secret.txt') });
    await expect(engine.run(doc, { baseDir: graphDir, trigger: 'test' })).rejects.toThrow(UntrustedGraphError);
    const summary = await engine.run(doc, { baseDir: graphDir, trigger: 'test', trust: true });
    expect(summary.status).toBe('succeeded');
    engine.close();
  });

  it('a unit sent to a queue worker keeps its access, remapped to where that worker mounts the store', () => {
    const unit = {
      nodeId: 'opener',
      baseDir: '/coord/ws/graphs',
      tmpDir: '/coord/ws/.forge/tmp',
      inputs: {},
      multiInputs: {},
      outputs: {},
      access: { roots: ['/coord/ws/graphs', '/coord/ws', '/data/granted'], declared: ['/coord/ws/data/in.jsonl'] },
    } as unknown as WorkUnit;
    const remote = remapUnit(unit, '/coord/ws', '/mnt/ws');
    expect(remote.access).toEqual({ roots: ['/mnt/ws/graphs', '/mnt/ws', '/data/granted'], declared: ['/mnt/ws/data/in.jsonl'] });
    expect(() => checkRuntimePath('/etc/passwd', '/mnt/ws/graphs', remote.access as NonNullable<WorkUnit['access']>, 'opener')).toThrow(/node opener opened \/etc\/passwd at run time/);
  });
});
