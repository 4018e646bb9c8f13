import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTemp, executedNodes, openEngine, QUICKSTART, REPO, runFile, tempProject } from './helpers.js';

afterAll(cleanupTemp);

const CLI = join(REPO, 'bin/forge.cjs');
function forge(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('artifacts are verified on use', () => {
  it('a deleted shard under an intact manifest is quarantined and recomputed, not reused', async () => {
    const project = tempProject();
    const engine = openEngine(project);
    const first = await runFile(engine, project);
    expect(first.status).toBe('succeeded');
    const mix = first.nodes.find((n) => n.nodeId === 'mix')?.outputs[0]?.hash as string;
    const dir = engine.ws.store.pathOf(mix);
    const shard = engine.ws.store.manifest(mix).files[0]?.path as string;
    unlinkSync(join(dir, shard));
    expect(engine.ws.store.verify(mix)).toMatch(/is missing/);
    const second = await runFile(engine, project);
    expect(second.status).toBe('succeeded');
    expect(executedNodes(engine, second.runId)).toContain('mix');
    expect(engine.ws.store.verify(mix)).toBeNull();
    expect(readdirSync(join(engine.ws.forgeDir, 'quarantine'))).toHaveLength(1);
    engine.close();
  });

  it('an edited metrics.json is noticed and recomputed; a deleted sink output is written again', async () => {
    const project = tempProject();
    const engine = openEngine(project);
    const first = await runFile(engine, project);
    const report = first.nodes.find((n) => n.nodeId === 'write_train')?.outputs[0]?.hash as string;
    const metrics = join(engine.ws.store.pathOf(report), 'metrics.json');
    writeFileSync(metrics, readFileSync(metrics, 'utf8').replace(/"rows": \d/, '"rows": 9'));
    expect(engine.ws.store.verify(report)).toMatch(/changed/);
    const out = join(project, 'out/quickstart/train.jsonl');
    unlinkSync(out);
    const second = await runFile(engine, project);
    expect(executedNodes(engine, second.runId)).toContain('write_train');
    expect(existsSync(out)).toBe(true);
    // Intact now: the third run reuses everything.
    const third = await runFile(engine, project);
    expect(executedNodes(engine, third.runId)).toEqual([]);
    engine.close();
  });

  it('`forge verify` and `forge db check --deep` report damage and never throw', () => {
    const project = tempProject();
    expect(forge(project, 'run', QUICKSTART).code).toBe(0);
    expect(forge(project, 'verify').code).toBe(0);
    const store = join(project, '.forge/artifacts');
    const [a] = readdirSync(store);
    const [b] = readdirSync(join(store, a as string));
    const dir = join(store, a as string, b as string);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { files: { path: string; bytes: number }[] };
    const big = manifest.files.find((f) => f.bytes > 0) as { path: string; bytes: number };
    // Same size, different bytes: only the full hash catches it.
    const buf = readFileSync(join(dir, big.path));
    buf[0] = (buf[0] as number) ^ 0xff;
    writeFileSync(join(dir, big.path), buf);
    const deep = forge(project, 'db', 'check', '--deep');
    expect(deep.code).toBe(1);
    expect(deep.out).toMatch(/damaged sha256:.*content hash differs/);
    expect(deep.out).toContain('integrity_check: ok');
  });
});

describe('the CLI on a bad workspace', () => {
  it('read-only commands refuse a missing workspace or a file given as -w, without creating anything', () => {
    const project = tempProject();
    const missing = join(project, 'nowhere');
    const r = forge(project, 'runs', '-w', missing);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/nowhere is missing/);
    expect(existsSync(missing)).toBe(false);
    writeFileSync(join(project, 'afile'), 'x');
    const f = forge(project, 'runs', '-w', join(project, 'afile'));
    expect(f.err).toMatch(/afile is not a folder/);
    expect(f.err).not.toMatch(/ at .*\.ts:\d+/);
    const empty = join(project, 'empty');
    mkdirSync(empty);
    expect(forge(project, 'show', 'latest', '-w', empty).err).toMatch(/not a Forge workspace/);
  });

  it('a corrupt or newer provenance DB gives a clear message, not a stack trace', () => {
    const project = tempProject();
    mkdirSync(join(project, '.forge'));
    writeFileSync(join(project, '.forge/provenance.sqlite'), 'this is not sqlite'.repeat(100));
    const corrupt = forge(project, 'runs');
    expect(corrupt.code).toBe(3);
    expect(corrupt.err).toMatch(/is not a readable Forge provenance database.*Move it aside/);
    expect(corrupt.err).not.toMatch(/\n\s+at /);
    rmSync(join(project, '.forge'), { recursive: true, force: true });
    expect(forge(project, 'run', QUICKSTART).code).toBe(0);
    const db = new Database(join(project, '.forge/provenance.sqlite'));
    db.pragma('user_version = 999');
    db.close();
    const newer = forge(project, 'db', 'check');
    expect(newer.code).toBe(3);
    expect(newer.err).toMatch(/schema version 999 is newer than this engine supports/);
  });
});
