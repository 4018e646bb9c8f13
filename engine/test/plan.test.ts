import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { NODE_TYPES } from '../../nodes/index.js';
import { graph } from '../../nodes/_sdk/testing/graph.js';
import type { GraphPlan, PlannedNode } from '../exec/plan.js';
import { NodeRegistry } from '../registry.js';
import { startServer } from '../server/server.js';
import { cachedNodes, cleanupTemp, executedNodes, openEngine, QUICKSTART, readDoc, REPO, runFile, tempProject, writeDoc } from './helpers.js';

const checkouts: string[] = [];
afterEach(() => {
  cleanupTemp();
  for (const d of checkouts.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * A copy of the sources the CLI runs (engine, nodes, composition, bin) sharing this checkout's
 * node_modules, so a test can edit a library without touching the real tree. Code hashes follow the
 * copy: its engine/registry.ts resolves the code root to the copy.
 */
function copyCheckout(): string {
  const root = mkdtempSync(join(tmpdir(), 'forge-checkout-'));
  checkouts.push(root);
  for (const dir of ['engine', 'nodes', 'composition', 'bin'])
    cpSync(join(REPO, dir), join(root, dir), { recursive: true, filter: (src) => !src.includes('node_modules') && !src.includes('test/fixtures') });
  for (const file of ['package.json', 'tsconfig.json']) cpSync(join(REPO, file), join(root, file));
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
  return root;
}

/** The built-in node types with their code hashed in `root` (a fresh registry, as after a restart). */
function registryOf(root: string): NodeRegistry {
  return new NodeRegistry(
    NODE_TYPES.map((t) => ({ ...t, module: pathToFileURL(join(root, relative(REPO, fileURLToPath(t.module)))).href })),
    undefined,
    root,
  );
}

const INPUT = 'resources/data/agent/torchhub_api.jsonl';
const byAction = (plan: GraphPlan, action: PlannedNode['action']) =>
  plan.nodes
    .filter((n) => n.action === action)
    .map((n) => n.nodeId)
    .sort();
const reasonsOf = (plan: GraphPlan, id: string) => plan.nodes.find((n) => n.nodeId === id)?.reasons ?? [];
const keysOfRun = (engine: ReturnType<typeof openEngine>, runId: string) =>
  Object.fromEntries(
    (engine.ws.db.db.prepare('SELECT node_id, cache_key FROM executions WHERE run_id = ?').all(runId) as { node_id: string; cache_key: string }[]).map((r) => [r.node_id, r.cache_key]),
  );

function appendRecord(project: string): void {
  const record = { api_name: 'x', description: 'A brand new API documentation record, long enough to pass the filter node: it loads a pretrained vision transformer and returns logits.' };
  appendFileSync(join(project, INPUT), `${JSON.stringify(record)}\n`);
}

describe('forge plan', () => {
  it('before the first run every node will run because it never ran', async () => {
    const project = tempProject();
    const engine = openEngine(project);
    try {
      const { doc, file, baseDir } = engine.loadFile(join(project, QUICKSTART));
      const plan = await engine.plan(doc, { file, baseDir });
      expect(byAction(plan, 'run')).toEqual(['api_docs', 'mix', 'prose', 'shuffle', 'split', 'substantial', 'write_train']);
      expect(reasonsOf(plan, 'prose')).toEqual(['never run in this workspace']);
      expect(reasonsOf(plan, 'mix')).toContain('upstream "substantial" will run');
      // Roots have everything their key needs; nodes below a node that will run do not.
      expect(plan.nodes.find((n) => n.nodeId === 'prose')?.cacheKey).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(plan.nodes.find((n) => n.nodeId === 'mix')?.cacheKey).toBeNull();
    } finally {
      engine.close();
    }
  });

  it('agrees with the run after the seed, an input file and a param change, and names each cause', async () => {
    const project = tempProject();
    const engine = openEngine(project);
    try {
      const first = await runFile(engine, project);
      const { doc, file, baseDir } = engine.loadFile(join(project, QUICKSTART));
      const clean = await engine.plan(doc, { file, baseDir });
      expect(byAction(clean, 'cached')).toEqual(executedNodes(engine, first.runId));
      // The plan's keys are the keys the run recorded.
      const firstKeys = keysOfRun(engine, first.runId);
      for (const n of clean.nodes) expect(n.cacheKey, n.nodeId).toBe(firstKeys[n.nodeId]);

      // Seed and input file: the canvas used to miss both.
      appendRecord(project);
      writeDoc(project, QUICKSTART, { ...doc, seed: doc.seed + 1 });
      const changed = engine.loadFile(join(project, QUICKSTART));
      const plan = await engine.plan(changed.doc, { file, baseDir });
      expect(reasonsOf(plan, 'api_docs')).toEqual([`graph seed changed (${doc.seed} → ${doc.seed + 1})`, 'input file changed: ../data/agent/torchhub_api.jsonl']);
      expect(reasonsOf(plan, 'prose')).toEqual([`graph seed changed (${doc.seed} → ${doc.seed + 1})`]);
      expect(reasonsOf(plan, 'substantial')).toEqual([`graph seed changed (${doc.seed} → ${doc.seed + 1})`, 'upstream "api_docs" will run']);
      const run = await runFile(engine, project);
      expect(executedNodes(engine, run.runId)).toEqual(byAction(plan, 'run'));
      expect(cachedNodes(engine, run.runId)).toEqual(byAction(plan, 'cached'));
      const runKeys = keysOfRun(engine, run.runId);
      for (const n of plan.nodes.filter((x) => x.cacheKey)) expect(n.cacheKey, n.nodeId).toBe(runKeys[n.nodeId]);

      // A param edit: exactly that node and its descendants, with the param named.
      const edited = readDoc(project);
      const filter = edited.nodes.find((n) => n.id === 'substantial');
      if (!filter) throw new Error('fixture changed: no substantial node');
      filter.params = { ...filter.params, where: 'length(text) >= 400' };
      writeDoc(project, QUICKSTART, edited);
      const third = engine.loadFile(join(project, QUICKSTART));
      const paramPlan = await engine.plan(third.doc, { file, baseDir });
      expect(byAction(paramPlan, 'cached')).toEqual(['api_docs', 'prose']);
      expect(reasonsOf(paramPlan, 'substantial')).toEqual(['param changed: where']);
      expect(reasonsOf(paramPlan, 'split')).toEqual(['upstream "shuffle" will run']);
      const again = await runFile(engine, project);
      expect(executedNodes(engine, again.runId)).toEqual(byAction(paramPlan, 'run'));
    } finally {
      engine.close();
    }
  });

  it('explains forced nodes in --node / --from modes', async () => {
    const project = tempProject();
    const engine = openEngine(project);
    try {
      await runFile(engine, project);
      const { doc, file, baseDir } = engine.loadFile(join(project, QUICKSTART));
      const plan = await engine.plan(doc, { file, baseDir, mode: 'from', target: 'shuffle' });
      expect(byAction(plan, 'run')).toEqual(['shuffle', 'split', 'write_train']);
      expect(reasonsOf(plan, 'shuffle')).toEqual(['the node a run-from starts at']);
      expect(reasonsOf(plan, 'split')[0]).toBe('downstream of "shuffle" in a run-from');
    } finally {
      engine.close();
    }
  });

  it('POST /api/plan serves the same plan the engine computes; the CLI prints it as JSON', async () => {
    const project = tempProject();
    const engine = openEngine(project);
    const server = await startServer(engine, { port: 0 });
    try {
      await runFile(engine, project);
      appendRecord(project);
      const doc = readDoc(project);
      const res = await fetch(`http://127.0.0.1:${server.port}/api/plan`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.token}` },
        body: JSON.stringify({ doc, path: QUICKSTART }),
      });
      expect(res.status).toBe(200);
      const served = (await res.json()) as GraphPlan;
      const local = await engine.plan(doc, { file: join(project, QUICKSTART), baseDir: join(project, 'resources/examples') });
      expect(served).toEqual(local);
      expect(byAction(served, 'cached')).toEqual(['prose']);

      const cli = spawnSync(process.execPath, [join(REPO, 'bin/forge.cjs'), 'plan', QUICKSTART, '--json', '-w', project], { cwd: project, encoding: 'utf8', timeout: 120_000 });
      expect(cli.stderr).toBe('');
      expect(JSON.parse(cli.stdout)).toEqual(local);
      const text = spawnSync(process.execPath, [join(REPO, 'bin/forge.cjs'), 'plan', QUICKSTART, '-w', project], { cwd: project, encoding: 'utf8', timeout: 120_000 });
      expect(text.stdout).toMatch(/api_docs\s+source\.jsonl\s+will run\s+sha256:[0-9a-f]{12}\s+input file changed: \.\.\/data\/agent\/torchhub_api\.jsonl/);
      expect(text.stdout).toMatch(/6 will run, 1 cached, 0 error\(s\)/);
    } finally {
      await server.close();
      engine.close();
    }
  });

  it('editing a shared library under nodes/_sdk makes exactly its users "will run", in forge plan and the canvas plan endpoint alike', async () => {
    const checkout = copyCheckout();
    const project = tempProject();
    const GRAPH = 'resources/examples/library.forge.json';
    const doc = graph(
      [
        { id: 'docs', type: 'source.jsonl', params: { path: '../data/agent/torchhub_api.jsonl', textField: 'description' } },
        { id: 'long', type: 'transform.filter', params: { where: 'length(text) >= 120' } },
        { id: 'table', type: 'view.table', params: { rows: 5 } },
        { id: 'hist', type: 'view.histogram', params: { column: 'words' } },
      ],
      [
        ['docs.out', 'long.in'],
        ['long.out', 'table.in'],
        ['docs.out', 'hist.in'],
      ],
      1,
    );
    writeDoc(project, GRAPH, doc);
    const LIBRARY = 'nodes/_sdk/report.ts';
    const before = registryOf(checkout);
    // The library's users in this graph, from the module graph itself: both views, not the source or the filter.
    const users = doc.nodes.filter((n) => before.codeInfo(n.type).files.includes(LIBRARY)).map((n) => n.id);
    expect(users.sort()).toEqual(['hist', 'table']);

    const first = openEngine(project, before);
    try {
      const run = await runFile(first, project, GRAPH);
      expect(executedNodes(first, run.runId)).toEqual(['docs', 'hist', 'long', 'table']);
      const { file, baseDir } = first.loadFile(join(project, GRAPH));
      expect(byAction(await first.plan(doc, { file, baseDir }), 'run')).toEqual([]);
    } finally {
      first.close();
    }

    appendFileSync(join(checkout, LIBRARY), '\n// an edit that changes no behaviour still changes the code\n');

    // The CLI of the edited checkout, and the server of an engine started after the edit (the canvas asks it).
    const cli = spawnSync(process.execPath, [join(checkout, 'bin/forge.cjs'), 'plan', GRAPH, '--json', '-w', project], { cwd: project, encoding: 'utf8', timeout: 120_000 });
    expect(cli.stderr).toBe('');
    const fromCli = JSON.parse(cli.stdout) as GraphPlan;
    const engine = openEngine(project, registryOf(checkout));
    const server = await startServer(engine, { port: 0 });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/api/plan`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.token}` },
        body: JSON.stringify({ doc, path: GRAPH }),
      });
      expect(res.status).toBe(200);
      const served = (await res.json()) as GraphPlan;
      for (const plan of [fromCli, served]) {
        expect(byAction(plan, 'run')).toEqual(['hist', 'table']);
        expect(byAction(plan, 'cached')).toEqual(['docs', 'long']);
        for (const id of users) expect(reasonsOf(plan, id)).toEqual(['node code changed']);
      }
      expect(served).toEqual(fromCli);

      // The run does what both said.
      const again = await runFile(engine, project, GRAPH);
      expect(executedNodes(engine, again.runId)).toEqual(['hist', 'table']);
      expect(cachedNodes(engine, again.runId)).toEqual(['docs', 'long']);
    } finally {
      await server.close();
      engine.close();
    }
  });
});
