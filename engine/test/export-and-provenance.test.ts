import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../engine.js';
import { defaultRegistry } from '../../composition/registry.js';
import { PinMismatchError } from '../exec/input-files.js';
import { MIGRATIONS } from '../provenance/migrations.js';
import { graphJsonSchema, type GraphDocument } from '../graph/document.js';
import { GraphLoadError } from '../graph/errors.js';
import { parseGraphValue } from '../graph/load.js';
import { cleanupTemp, openEngine, outputHashes, QUICKSTART, readDoc, runFile, tempProject, writeDoc } from './helpers.js';

afterEach(cleanupTemp);

describe('reproducible configs', () => {
  it('export → fresh workspace elsewhere → identical artifact hashes', async () => {
    const project = tempProject();
    const engine = openEngine(project);
    let original: Record<string, string>;
    let config: GraphDocument;
    try {
      const run = await runFile(engine, project);
      original = outputHashes(engine, run.runId);
      const { doc, baseDir } = engine.loadFile(join(project, QUICKSTART));
      config = await engine.exportConfig(doc, baseDir);
    } finally {
      engine.close();
    }
    expect(Object.keys(config.pins?.files ?? {}).sort()).toEqual(['../data/agent/torchhub_api.jsonl', '../data/prose/grimms-fairy-tales.txt']);
    expect(config.nodes.every((n) => n.typeVersion === 1)).toBe(true);
    expect(config.engineVersion).toBeTruthy();

    // Another "machine": a different folder with only the config and the files it pins.
    const other = mkdtempSync(join(tmpdir(), 'forge-elsewhere-'));
    try {
      mkdirSync(join(other, 'cfg'), { recursive: true });
      cpSync(join(project, 'resources/data'), join(other, 'data'), { recursive: true });
      writeFileSync(join(other, 'cfg/config.forge.json'), JSON.stringify(config));
      const engine2 = Engine.open(other, defaultRegistry());
      try {
        // Its sink writes beside the new workspace (../../out), which needs the user's consent.
        const run2 = await runFile(engine2, other, 'cfg/config.forge.json', { trust: true });
        expect(run2.status).toBe('succeeded');
        expect(outputHashes(engine2, run2.runId)).toEqual(original);
      } finally {
        engine2.close();
      }
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('refuses to run when a pinned input differs, naming the file, and records no run', async () => {
    const project = tempProject();
    const engine = openEngine(project);
    try {
      const { doc, baseDir } = engine.loadFile(join(project, QUICKSTART));
      const config = await engine.exportConfig(doc, baseDir);
      writeDoc(project, 'resources/examples/pinned.forge.json', config);
      appendFileSync(join(project, 'resources/data/prose/grimms-fairy-tales.txt'), '\nOne more tale.\n');
      const error = await runFile(engine, project, 'resources/examples/pinned.forge.json').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PinMismatchError);
      expect((error as Error).message).toContain('../data/prose/grimms-fairy-tales.txt');
      expect((error as PinMismatchError).nodeId).toBe('prose');
      expect((engine.ws.db.db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n).toBe(0);
    } finally {
      engine.close();
    }
  });
});

describe('provenance', () => {
  it('answers lineage: which executions, params and inputs produced an artifact', async () => {
    const project = tempProject();
    const engine = openEngine(project);
    try {
      const run = await runFile(engine, project);
      const train = outputHashes(engine, run.runId)['split.train'] as string;
      const steps = engine.ws.queries.lineage(train);
      const nodes = steps.map((s) => s.execution?.nodeId);
      expect(nodes[0]).toBe('split');
      expect(new Set(nodes)).toEqual(new Set(['split', 'shuffle', 'mix', 'substantial', 'api_docs', 'prose']));
      const loader = steps.find((s) => s.execution?.nodeId === 'api_docs')?.execution;
      expect(loader?.params.textField).toBe('description');
      expect(loader?.files.map((f) => f.path)).toEqual(['../data/agent/torchhub_api.jsonl']);
    } finally {
      engine.close();
    }
  });

  it('diffs two runs: params changed and which outputs moved', async () => {
    const project = tempProject();
    const engine = openEngine(project);
    try {
      const a = await runFile(engine, project);
      const doc = readDoc(project);
      (doc.nodes.find((n) => n.id === 'split') as GraphDocument['nodes'][number]).params = { testFraction: 0.5 };
      writeDoc(project, QUICKSTART, doc);
      const b = await runFile(engine, project);
      const diff = engine.ws.queries.diff(a.runId, b.runId);
      expect(diff.graphChanged).toBe(true);
      const split = diff.nodes.find((n) => n.nodeId === 'split');
      expect(split?.paramsChanged).toEqual([{ field: 'testFraction', a: 0.2, b: 0.5 }]);
      expect(split?.outputsChanged).toBe(true);
      expect(diff.nodes.find((n) => n.nodeId === 'mix')?.outputsChanged).toBe(false);
      expect(diff.nodes.find((n) => n.nodeId === 'mix')?.statusB).toBe('cached');
    } finally {
      engine.close();
    }
  });

  it('rebuilds the query tables from the append-only event log', async () => {
    const project = tempProject();
    const engine = openEngine(project);
    try {
      await runFile(engine, project);
      await runFile(engine, project, QUICKSTART, { mode: 'from', target: 'split' });
      const db = engine.ws.db.db;
      const snapshot = () => ['runs', 'executions', 'artifacts', 'execution_inputs', 'execution_outputs', 'execution_files', 'graphs'].map((t) => db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2`).all());
      const before = snapshot();
      expect(engine.ws.db.rebuildFromEvents()).toBeGreaterThan(20);
      expect(snapshot()).toEqual(before);
      expect(engine.ws.db.integrityCheck()).toBe('ok');
      expect(engine.ws.db.schemaVersion).toBe(MIGRATIONS.length);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'executions_node'").get()).toBeDefined();
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      engine.close();
    }
  });

  it('captures the environment of each run', async () => {
    const project = tempProject();
    const engine = openEngine(project);
    try {
      const run = await runFile(engine, project);
      const detail = engine.ws.queries.run(run.runId);
      expect(detail.environment?.node).toBe(process.version);
      expect(detail.environment?.cores).toBeGreaterThan(0);
      expect(detail.environment?.libraries['@duckdb/node-api']).toBeTruthy();
      expect(detail.environment?.nodeTypes['source.jsonl']).toBe(1);
    } finally {
      engine.close();
    }
  });
});

describe('graph documents', () => {
  it('migrates version 1 documents to the current format', () => {
    const v1 = {
      format: 'forge-graph',
      version: 1,
      globalSeed: 9,
      nodes: [
        { id: 'a', type: 'source.jsonl', params: { path: 'x.jsonl' } },
        { id: 'b', type: 'transform.filter', params: { where: 'true' } },
      ],
      edges: [{ id: 'e1', source: 'a', sourceHandle: 'out', target: 'b', targetHandle: 'in' }],
    };
    const doc = parseGraphValue(v1);
    // v1 → v2 (edges, seed) → v3 (subgraphs); the document says where it came from.
    expect(doc.version).toBe(3);
    expect(doc.migratedFrom).toBe(1);
    expect(doc.seed).toBe(9);
    expect(doc.edges).toEqual([{ id: 'e1', from: { node: 'a', port: 'out' }, to: { node: 'b', port: 'in' } }]);
  });

  it('refuses a future format version with a clear message', () => {
    let error: unknown;
    try {
      parseGraphValue({ format: 'forge-graph', version: 99, nodes: [] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GraphLoadError);
    expect((error as GraphLoadError).diagnostics[0]?.field).toBe('version');
    expect((error as Error).message).toMatch(/newer Forge \(format version 99\)/);
  });

  it('publishes a JSON Schema that describes nodes, edges, sweeps and pins', () => {
    const schema = graphJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    expect(schema.required).toEqual(expect.arrayContaining(['format', 'version', 'nodes']));
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['nodes', 'edges', 'seed', 'pins']));
    const text = JSON.stringify(schema);
    expect(text).toContain('"sweep"');
    expect(text).toContain('pinnedOutputs');
  });

  it('keeps unknown node types as placeholders: a diagnostic, never a crash', () => {
    const project = tempProject();
    const engine = openEngine(project);
    try {
      const doc = readDoc(project);
      doc.nodes.push({ id: 'future', type: 'vendor.magic', params: { a: 1 }, position: { x: 0, y: 0 } });
      const result = engine.validate(doc);
      expect(result.graph).toBeUndefined();
      expect(result.diagnostics).toContainEqual(expect.objectContaining({ code: 'unknown-type', nodeId: 'future', field: 'type' }));
    } finally {
      engine.close();
    }
  });
});
