import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { GraphDocument } from '../graph/document.js';
import { assessTrust, UntrustedGraphError } from '../security/trust.js';
import { cleanupTemp, openEngine, REPO, tempProject } from './helpers.js';

afterAll(cleanupTemp);

const EXAMPLES = 'resources/examples';
const source = { id: 'src', type: 'source.jsonl', params: { path: '../data/agent/torchhub_api.jsonl', textField: 'description', source: 'api' } };

function graph(nodes: GraphDocument['nodes'], edges: GraphDocument['edges'] = []): GraphDocument {
  return { format: 'forge-graph', version: 2, seed: 1, nodes, edges } as GraphDocument;
}

const edge = (from: string, to: string, port = 'in') => ({ from: { node: from, port: 'out' }, to: { node: to, port } });

/** A folder outside the project: what a stranger's graph must not reach without consent. */
function outsideDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'forge-outside-'));
  writeFileSync(join(d, 'victim.txt'), 'precious\n');
  return d;
}

describe('file access and trust are enforced by the engine', () => {
  it('refuses a report folder outside the graph folder and workspace, and deletes nothing there', async () => {
    const project = tempProject();
    const outside = outsideDir();
    const engine = openEngine(project);
    const doc = graph([source, { id: 'rep', type: 'sink.report', params: { folder: outside } }]);
    const baseDir = join(project, EXAMPLES);
    await expect(engine.run(doc, { baseDir, trigger: 'test' })).rejects.toThrow(UntrustedGraphError);
    await expect(engine.run(doc, { baseDir, trigger: 'test' })).rejects.toThrow(/rep params\.folder: .*forge-outside-/);
    expect(readFileSync(join(outside, 'victim.txt'), 'utf8')).toBe('precious\n');
    engine.close();
    rmSync(outside, { recursive: true, force: true });
  });

  it('treats reads of files outside (a glob on /etc, a symlink out of the graph folder) as needing trust', async () => {
    const project = tempProject();
    const outside = outsideDir();
    const engine = openEngine(project);
    const baseDir = join(project, EXAMPLES);
    symlinkSync(outside, join(baseDir, 'innocent'));
    const doc = graph([
      { id: 'etc', type: 'source.text-folder', params: { pattern: '/etc/host*', source: 'x' } },
      { id: 'link', type: 'source.text-folder', params: { pattern: 'innocent/*.txt', source: 'x' } },
      { id: 'inside', type: 'source.text-folder', params: { pattern: '../data/prose/*.txt', source: 'x' } },
    ]);
    const a = await assessTrust(engine.requireValid(doc), engine.registry, baseDir, project, []);
    const flagged = new Set(a.needsTrust.map((i) => i.nodeId));
    expect(flagged).toEqual(new Set(['etc', 'link']));
    expect(a.needsTrust.find((i) => i.nodeId === 'link')?.value).toContain(outside);
    engine.close();
    rmSync(outside, { recursive: true, force: true });
  });

  it('runs once trusted (--trust), remembers the fingerprint in the workspace, and accepts granted folders', async () => {
    const project = tempProject();
    const outside = outsideDir();
    const baseDir = join(project, EXAMPLES);
    const doc = graph([source, { id: 'write', type: 'sink.write', params: { path: join(outside, 'out.jsonl') } }], [edge('src', 'write')]);
    let engine = openEngine(project);
    const first = await engine.run(doc, { baseDir, trigger: 'test', trust: true });
    expect(first.status).toBe('succeeded');
    engine.close();
    engine = openEngine(project);
    // Same graph, new process: the stored fingerprint is enough.
    expect((await engine.run(doc, { baseDir, trigger: 'test' })).status).toBe('succeeded');
    // A different outside path is a different fingerprint.
    const moved = graph([source, { id: 'write', type: 'sink.write', params: { path: join(outside, 'other.jsonl') } }], [edge('src', 'write')]);
    await expect(engine.run(moved, { baseDir, trigger: 'test' })).rejects.toThrow(UntrustedGraphError);
    expect((await engine.run(moved, { baseDir, trigger: 'test', allow: [outside] })).status).toBe('succeeded');
    expect(existsSync(join(outside, 'other.jsonl'))).toBe(true);
    engine.close();
    rmSync(outside, { recursive: true, force: true });
  });

  it('needs trust for train.external, and its env is part of the fingerprint', async () => {
    const project = tempProject();
    const engine = openEngine(project);
    const baseDir = join(project, EXAMPLES);
    const ext = (env: Record<string, string>) =>
      graph([source, { id: 'train', type: 'train.external', params: { command: 'python3 train.py', tokenizer: '../models/all-MiniLM-L6-v2-tokenizer', env } }], [edge('src', 'train', 'train')]);
    const a = await assessTrust(engine.requireValid(ext({})), engine.registry, baseDir, project, []);
    expect(a.needsTrust.map((i) => i.field)).toContain('params.command');
    await expect(engine.run(ext({}), { baseDir, trigger: 'test' })).rejects.toThrow(/train params\.command runs code/);
    const b = await assessTrust(engine.requireValid(ext({ PATH: '/tmp/evil' })), engine.registry, baseDir, project, []);
    expect(b.fingerprint).not.toBe(a.fingerprint);
    expect(b.needsTrust.map((i) => i.field)).toContain('params.env');
    engine.close();
  });

  it("runs train.torch's own train.py with the default interpreter without trust, but a graph naming an interpreter needs it", async () => {
    const engine = openEngine(mkdtempSync(join(tmpdir(), 'forge-ws-')));
    // The shipped neural example leaves python empty on every train.torch node: no flags needed.
    const { doc, baseDir } = engine.loadFile(join(REPO, EXAMPLES, 'hephaestus-neural.forge.json'));
    const torchNodes = doc.nodes.filter((n) => n.type === 'train.torch');
    expect(torchNodes.length).toBeGreaterThanOrEqual(4);
    const shipped = await assessTrust(engine.requireValid(doc), engine.registry, baseDir, REPO, []);
    expect(shipped.needsTrust).toEqual([]);
    expect(shipped.items.filter((i) => i.field === 'params.python')).toEqual([]);
    // The same graph with one stage pointed at another interpreter (inside the repo, so only the
    // code param can be what asks) needs trust for exactly that node, and each interpreter has its
    // own fingerprint: trusting one does not trust another.
    const withPython = (python: string): GraphDocument => ({
      ...doc,
      nodes: doc.nodes.map((n) => (n.id === 'stage2' ? { ...n, params: { ...n.params, python } } : n)),
    });
    const venv = await assessTrust(engine.requireValid(withPython('../../.venv/bin/python')), engine.registry, baseDir, REPO, []);
    expect(venv.needsTrust).toEqual([expect.objectContaining({ nodeId: 'stage2', field: 'params.python', reason: 'code', value: '../../.venv/bin/python' })]);
    const other = await assessTrust(engine.requireValid(withPython('../../.venv2/bin/python')), engine.registry, baseDir, REPO, []);
    expect(other.needsTrust.map((i) => i.field)).toEqual(['params.python']);
    expect(other.fingerprint).not.toBe(venv.fingerprint);
    expect(venv.fingerprint).not.toBe(shipped.fingerprint);
    // Naming the default interpreter explicitly is still a graph choosing what to run: it asks too.
    const explicit = await assessTrust(engine.requireValid(withPython('/usr/bin/python3')), engine.registry, baseDir, REPO, []);
    expect(explicit.needsTrust.some((i) => i.nodeId === 'stage2' && i.field === 'params.python' && i.reason === 'code')).toBe(true);
    // And the gate every client passes refuses that run before any node starts.
    const project = tempProject();
    const gated = openEngine(project);
    await expect(gated.run(withPython('../../.venv/bin/python'), { baseDir: join(project, EXAMPLES), trigger: 'test' })).rejects.toThrow(/node stage2 params\.python runs code/);
    gated.close();
    engine.close();
  });

  it("lets the repo's own examples run without flags (SQL is confined, every path is inside)", async () => {
    const engine = openEngine(mkdtempSync(join(tmpdir(), 'forge-ws-')));
    for (const name of ['hephaestus-forge.forge.json', 'quickstart.forge.json']) {
      const { doc, baseDir } = engine.loadFile(join(REPO, EXAMPLES, name));
      // The CLI's default workspace is the current folder: the repo root.
      const a = await assessTrust(engine.requireValid(doc), engine.registry, baseDir, REPO, []);
      expect(a.needsTrust).toEqual([]);
      expect(a.items.some((i) => i.reason === 'confined-code')).toBe(true);
    }
    engine.close();
  });
});

describe('user SQL is one read-only statement that reaches only its inputs', () => {
  const sqlGraph = (query: string) => graph([source, { id: 'q', type: 'transform.sql', params: { query } }], [edge('src', 'q', 'a')]);
  const filterGraph = (where: string) => graph([source, { id: 'f', type: 'transform.filter', params: { where } }], [edge('src', 'f')]);

  async function failure(doc: GraphDocument): Promise<string> {
    const project = tempProject();
    const engine = openEngine(project);
    const summary = await engine.run(doc, { baseDir: join(project, EXAMPLES), trigger: 'test' });
    engine.close();
    const failed = summary.nodes.find((n) => n.state === 'failed');
    expect(failed, 'the SQL node must fail').toBeDefined();
    return failed?.error ?? '';
  }

  it('cannot read files outside its inputs', async () => {
    expect(await failure(sqlGraph("SELECT 'x' AS id, content AS text, 's' AS source FROM read_text('/etc/passwd')"))).toMatch(/disabled by configuration|Permission/);
  });

  it('refuses COPY … TO and extra statements, leaving no file behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-sql-'));
    const target = join(dir, 'stolen.csv');
    expect(await failure(sqlGraph(`SELECT id, text, source FROM a; COPY (SELECT 1) TO '${target}'`))).toMatch(/only one SQL statement/);
    expect(await failure(sqlGraph(`COPY (SELECT * FROM a) TO '${target}'`))).toMatch(/not COPY/);
    // Breaking out of the WHERE clause only yields SQL that does not parse as one statement.
    expect(await failure(filterGraph(`true), false); COPY (SELECT 1) TO '${target}'; SELECT coalesce((true`))).toMatch(/only one SQL statement|cannot parse/);
    expect(existsSync(target)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses ATTACH (no database file is created), INSTALL, LOAD, PRAGMA and SET', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-sql-'));
    const db = join(dir, 'x.duckdb');
    expect(await failure(sqlGraph(`ATTACH '${db}' AS x`))).toMatch(/not ATTACH/);
    expect(existsSync(db)).toBe(false);
    expect(await failure(sqlGraph('INSTALL httpfs'))).toMatch(/read-only SELECT query is allowed here, not [A-Z]+/);
    expect(await failure(sqlGraph('LOAD httpfs'))).toMatch(/read-only SELECT query is allowed here, not [A-Z]+/);
    expect(await failure(sqlGraph('PRAGMA version'))).toMatch(/read-only SELECT query is allowed here, not [A-Z]+/);
    expect(await failure(sqlGraph('SET threads = 1'))).toMatch(/read-only SELECT query is allowed here, not [A-Z]+/);
    expect(await failure(filterGraph(`(SELECT count(*) FROM read_text('/etc/passwd')) > 0`))).toMatch(/disabled by configuration/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('still runs ordinary queries over its inputs', async () => {
    const project = tempProject();
    const engine = openEngine(project);
    const s = await engine.run(sqlGraph('SELECT id, text, source FROM a WHERE length(text) > 10'), { baseDir: join(project, EXAMPLES), trigger: 'test' });
    expect(s.status).toBe('succeeded');
    expect(s.nodes.find((n) => n.nodeId === 'q')?.outputs[0]?.rows).toBeGreaterThan(0);
    engine.close();
    mkdirSync(join(project, 'x'), { recursive: true });
  });
});

describe('sinks never delete what they did not create', () => {
  it('sink.report puts its files into an existing folder without removing the rest, and sweeps dead temp folders', async () => {
    const project = tempProject();
    const engine = openEngine(project);
    const baseDir = join(project, EXAMPLES);
    const folder = join(project, 'out', 'mine');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'thesis.tex'), 'years of work\n');
    // A temp folder from a run that was killed (pid 2^22 + 1 is above Linux's pid_max default).
    const abandoned = `${folder}.forge-tmp-4194305-deadbeef`;
    mkdirSync(abandoned);
    const doc = readFileSync(join(baseDir, 'quickstart.forge.json'), 'utf8');
    const g = JSON.parse(doc) as GraphDocument;
    g.nodes.push({ id: 'rep', type: 'sink.report', params: { folder: '../../out/mine' } } as GraphDocument['nodes'][number]);
    g.edges.push({ from: { node: 'write_train', port: 'report' }, to: { node: 'rep', port: 'metrics' } } as GraphDocument['edges'][number]);
    const s = await engine.run(g, { baseDir, trigger: 'test' });
    expect(s.status).toBe('succeeded');
    expect(readFileSync(join(folder, 'thesis.tex'), 'utf8')).toBe('years of work\n');
    expect(readFileSync(join(folder, 'report.md'), 'utf8')).toContain('write_train');
    expect(existsSync(abandoned)).toBe(false);
    engine.close();
  });
});
