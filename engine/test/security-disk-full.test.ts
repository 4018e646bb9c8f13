import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { GraphDocument } from '../graph/document.js';
import { NodeError } from '../sdk/node-error.js';
import { explainDiskFull, isDiskFull } from '../util/disk-full.js';
import { cleanupTemp, openEngine, QUICKSTART, REPO, runFile, tempProject } from './helpers.js';
import { createRegistry, enospc } from './nodes/disk-full-nodes.js';

afterAll(cleanupTemp);

const CLI = join(REPO, 'bin/forge.cjs');

function graph(params: { target?: string }): GraphDocument {
  return { format: 'forge-graph', version: 2, seed: 1, nodes: [{ id: 'filler', type: 'test.fill', params }], edges: [] } as GraphDocument;
}

describe('explainDiskFull', () => {
  it('names the path on the errno, else the path the caller was writing', () => {
    const own = explainDiskFull(enospc('open', '/data/out/train.jsonl'), 'sink', '/fallback') as NodeError;
    expect(own).toBeInstanceOf(NodeError);
    expect(own.message).toBe('the disk is full: no space left to write /data/out/train.jsonl');
    expect(own.location).toEqual({ nodeId: 'sink', file: '/data/out/train.jsonl' });
    expect((explainDiskFull(enospc('write'), 'sink', '/ws/.forge/staging/x') as Error).message).toBe('the disk is full: no space left to write /ws/.forge/staging/x');
  });

  it('recognises EDQUOT, a worker-thread message and a library message naming its file', () => {
    const quota = Object.assign(new Error('EDQUOT: disk quota exceeded, write'), { code: 'EDQUOT' });
    expect(isDiskFull(quota)).toBe(true);
    // Across a worker thread only name and message survive.
    const fromWorker = new Error("ENOSPC: no space left on device, open '/w/report.md'");
    expect((explainDiskFull(fromWorker, 'rep', '/fallback') as Error).message).toBe('the disk is full: no space left to write /w/report.md');
    const duck = new NodeError('cannot write: IO Error: No space left on device', { file: 'out/train.jsonl', field: 'params.path' });
    const named = explainDiskFull(duck, 'write_train', '/fallback') as NodeError;
    expect(named.message).toBe('the disk is full: no space left to write out/train.jsonl');
    expect(named.location).toEqual({ nodeId: 'write_train', file: 'out/train.jsonl', field: 'params.path' });
  });

  it('leaves every other error as it was', () => {
    const other = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    expect(explainDiskFull(other, 'n', '/x')).toBe(other);
  });
});

describe('a full disk during a run', () => {
  it('fails the node naming the sink path, publishes no half-written artifact, and leaves the database clean', async () => {
    const project = tempProject();
    const graphDir = join(project, 'graphs');
    mkdirSync(graphDir);
    const engine = openEngine(project, createRegistry());
    const before = engine.ws.store.list();
    const summary = await engine.run(graph({ target: 'out/train.jsonl' }), { baseDir: graphDir, trigger: 'test' });
    const node = summary.nodes.find((n) => n.nodeId === 'filler');
    expect(node?.state).toBe('failed');
    expect(node?.error).toBe(`the disk is full: no space left to write ${join(graphDir, 'out/train.jsonl')}`);
    expect(node?.location).toMatchObject({ nodeId: 'filler', file: join(graphDir, 'out/train.jsonl') });
    expect(engine.ws.store.list()).toEqual(before);
    expect(readdirSync(engine.ws.store.stagingDir)).toEqual([]);
    expect(engine.ws.db.integrityCheck()).toBe('ok');
    engine.close();
    const check = spawnSync(process.execPath, [CLI, 'db', 'check'], { cwd: project, encoding: 'utf8', timeout: 120_000 });
    expect(check.stdout).toContain('integrity_check: ok');
    expect(check.status).toBe(0);
  });

  it('a write without a path names the output folder it was filling', async () => {
    const project = tempProject();
    const engine = openEngine(project, createRegistry());
    const summary = await engine.run(graph({}), { baseDir: project, trigger: 'test' });
    const node = summary.nodes.find((n) => n.nodeId === 'filler');
    expect(node?.error).toMatch(new RegExp(`^the disk is full: no space left to write ${engine.ws.store.stagingDir}/\\S+`));
    expect(readdirSync(engine.ws.store.stagingDir)).toEqual([]);
    engine.close();
  });

  it('ENOSPC while publishing names the staged folder and leaves no artifact behind', async () => {
    const project = tempProject();
    const engine = openEngine(project);
    const store = engine.ws.store;
    let staged = '';
    const spy = vi.spyOn(store, 'publish').mockImplementationOnce(async (dir) => {
      staged = dir;
      throw enospc('open', join(dir, 'manifest.json'));
    });
    const summary = await runFile(engine, project, QUICKSTART);
    spy.mockRestore();
    const failed = summary.nodes.find((n) => n.state === 'failed');
    expect(failed?.error).toBe(`the disk is full: no space left to write ${join(staged, 'manifest.json')}`);
    expect(existsSync(staged)).toBe(false);
    expect(readdirSync(store.stagingDir)).toEqual([]);
    expect(engine.ws.db.integrityCheck()).toBe('ok');
    // The next run (disk freed) completes, and nothing half-written was reused.
    const again = await runFile(engine, project, QUICKSTART);
    expect(again.status).toBe('succeeded');
    for (const hash of store.list()) expect(store.verify(hash)).toBeNull();
    engine.close();
  });
});
