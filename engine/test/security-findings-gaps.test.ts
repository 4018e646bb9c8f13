/**
 * Findings of issue 9 that no other test covered directly (see SECURITY-FINDINGS.md): source.code
 * reading outside, the CLI's own trust gate, a CSV with an unterminated quote, and repairing a
 * damaged artifact with `--node` and `--force`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { GraphDocument } from '../graph/document.js';
import { assessTrust } from '../security/trust.js';
import { cleanupTemp, executedNodes, openEngine, REPO, runFile, tempProject } from './helpers.js';

const outsides: string[] = [];
afterAll(() => {
  cleanupTemp();
  for (const d of outsides) rmSync(d, { recursive: true, force: true });
});

const EXAMPLES = 'resources/examples';
const CLI = join(REPO, 'bin/forge.cjs');

function outsideDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'forge-outside-'));
  outsides.push(d);
  writeFileSync(join(d, 'id_rsa'), 'PRIVATE KEY\n');
  return d;
}

function graph(nodes: GraphDocument['nodes'], edges: GraphDocument['edges'] = []): GraphDocument {
  return { format: 'forge-graph', version: 2, seed: 1, nodes, edges } as GraphDocument;
}

describe('issue 9 findings without a test elsewhere', () => {
  it('source.code reading files outside (a ~/.ssh-like folder) needs trust, inside does not', async () => {
    const project = tempProject();
    const outside = outsideDir();
    const engine = openEngine(project);
    const doc = graph([
      { id: 'keys', type: 'source.code', params: { pattern: `${outside}/*` } },
      { id: 'own', type: 'source.code', params: { pattern: '*.forge.json' } },
    ]);
    const a = await assessTrust(engine.requireValid(doc), engine.registry, join(project, EXAMPLES), project, []);
    expect(new Set(a.needsTrust.map((i) => i.nodeId))).toEqual(new Set(['keys']));
    expect(a.needsTrust.map((i) => i.field)).toContain('params.pattern');
    engine.close();
  });

  it('source.warc and source.parquet-glob reading a folder outside need trust, naming node and params.path; inside does not', async () => {
    const project = tempProject();
    const outside = outsideDir();
    const engine = openEngine(project);
    const doc = graph([
      { id: 'crawl', type: 'source.warc', params: { path: outside } },
      { id: 'shards', type: 'source.parquet-glob', params: { path: outside } },
      { id: 'own', type: 'source.parquet-glob', params: { path: '.' } },
    ]);
    const a = await assessTrust(engine.requireValid(doc), engine.registry, join(project, EXAMPLES), project, []);
    expect(new Set(a.needsTrust.map((i) => i.nodeId))).toEqual(new Set(['crawl', 'shards']));
    expect(a.needsTrust.map((i) => i.field)).toContain('params.path');
    engine.close();
  });

  it('the CLI refuses an untrusted graph without a TTY (exit 2, naming node and path), and runs it with --trust or --allow', () => {
    const project = tempProject();
    const outside = outsideDir();
    const file = join(project, EXAMPLES, 'stranger.forge.json');
    const doc = JSON.parse(spawnSync('cat', [join(project, EXAMPLES, 'quickstart.forge.json')], { encoding: 'utf8' }).stdout) as GraphDocument;
    const writer = doc.nodes.find((n) => n.id === 'write_train');
    if (writer) writer.params.path = join(outside, 'train.jsonl');
    writeFileSync(file, JSON.stringify(doc));
    const forge = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: project, encoding: 'utf8', timeout: 200_000, stdio: ['ignore', 'pipe', 'pipe'] });
    const refused = forge('run', file, '--quiet');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/needs your trust/);
    expect(refused.stderr).toMatch(/write_train params\.path: .*forge-outside-.*train\.jsonl/);
    expect(existsSync(join(outside, 'train.jsonl'))).toBe(false);
    expect(forge('run', file, '--quiet', '--allow', outside).status).toBe(0);
    expect(existsSync(join(outside, 'train.jsonl'))).toBe(true);
    rmSync(join(outside, 'train.jsonl'));
    expect(forge('run', file, '--quiet', '--trust', '--force').status).toBe(0);
    expect(existsSync(join(outside, 'train.jsonl'))).toBe(true);
  });

  it('a CSV with an unterminated quote is refused naming the file and line, not loaded silently', async () => {
    const project = tempProject();
    const baseDir = join(project, EXAMPLES);
    writeFileSync(join(baseDir, 'quote.csv'), 'id,text\n1,fine\n2,"never closed\n3,more\n');
    const engine = openEngine(project);
    const summary = await engine.run(graph([{ id: 'table', type: 'source.csv', params: { path: 'quote.csv' } }]), { baseDir, trigger: 'test' });
    const n = summary.nodes.find((o) => o.nodeId === 'table');
    expect(n?.state).toBe('failed');
    expect(n?.location).toMatchObject({ nodeId: 'table', file: 'quote.csv' });
    expect(n?.location?.line).toBe(3);
    expect(n?.error).toMatch(/never closed/);
    expect(n?.error).not.toMatch(/internal error/);
    engine.close();
  });

  it('--node and --force repair a damaged artifact: it is quarantined and republished, not kept', async () => {
    const project = tempProject();
    const engine = openEngine(project);
    const first = await runFile(engine, project);
    const mix = first.nodes.find((n) => n.nodeId === 'mix')?.outputs[0]?.hash as string;
    const shardOf = (hash: string) => join(engine.ws.store.pathOf(hash), engine.ws.store.manifest(hash).files[0]?.path as string);
    truncateSync(shardOf(mix), 10);
    const node = await runFile(engine, project, undefined, { mode: 'node', target: 'mix' });
    expect(executedNodes(engine, node.runId)).toEqual(['mix']);
    expect(engine.ws.store.verify(mix)).toBeNull();
    truncateSync(shardOf(mix), 10);
    const { doc, file, baseDir } = engine.loadFile(join(project, 'resources/examples/quickstart.forge.json'));
    const forced = await engine.run(doc, { file, baseDir, trigger: 'test', force: true });
    expect(forced.status).toBe('succeeded');
    expect(engine.ws.store.verify(mix)).toBeNull();
    expect(readdirSync(join(engine.ws.forgeDir, 'quarantine'))).toHaveLength(2);
    engine.close();
  });
});
