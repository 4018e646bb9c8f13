import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTemp, QUICKSTART, REPO, tempProject } from './helpers.js';

const CLI = join(REPO, 'bin/forge.cjs');
let project: string;

function forge(...args: string[]) {
  const env = { ...process.env };
  delete env.UV_THREADPOOL_SIZE;
  const r = spawnSync(process.execPath, [CLI, ...args, '-w', project], { cwd: project, encoding: 'utf8', timeout: 180_000, env });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  project = tempProject();
});
afterAll(cleanupTemp);

describe('forge CLI', () => {
  it('runs the example, prints a summary, and reruns from cache', () => {
    const first = forge('run', QUICKSTART);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/succeeded: 7 ran, 0 cached, 0 failed/);
    expect(first.out).toMatch(/api_docs\s+source\.jsonl\s+ran/);
    // Each executed node's memory peak (this process's resident set while it ran).
    expect(first.out).toMatch(/time\s+peak memory\s+outputs/);
    expect(first.out).toMatch(/api_docs\s+source\.jsonl\s+ran\s+\S+ m?s\s+\d+ MiB/);
    expect(existsSync(join(project, 'out/quickstart/train.jsonl'))).toBe(true);
    const second = forge('run', QUICKSTART);
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/succeeded: 0 ran, 7 cached/);
  });

  it('answers provenance questions: runs, show, lineage, diff', () => {
    const runs = JSON.parse(forge('runs', '--json').out) as { id: string; executed: number; cached: number }[];
    expect(runs).toHaveLength(2);
    expect(runs[0]?.cached).toBe(7);
    expect(runs[1]?.executed).toBe(7);

    const show = forge('show', 'latest');
    expect(show.code).toBe(0);
    expect(show.out).toContain(`run ${runs[0]?.id}`);
    expect(show.out).toMatch(/environment: forge 0\.1\.0, node v\d+/);
    // The CLI sizes libuv's pool (where DuckDB's queries run) to the cores before any module loads.
    expect(show.out).toContain(`${availableParallelism()}× `);
    expect(show.out).toContain(`(thread pool ${availableParallelism() + 4})`);
    expect(show.out).toMatch(/reads \.\.\/data\/agent\/torchhub_api\.jsonl sha256:/);

    const detail = JSON.parse(forge('show', runs[1]?.id as string, '--json').out) as { executions: { nodeId: string; outputs: { port: string; hash: string }[] }[] };
    const train = detail.executions.find((e) => e.nodeId === 'split')?.outputs.find((o) => o.port === 'train')?.hash as string;
    const lineage = forge('lineage', train.slice(0, 20));
    expect(lineage.code).toBe(0);
    for (const node of ['split', 'shuffle', 'mix', 'substantial', 'api_docs', 'prose']) expect(lineage.out).toContain(`produced by ${node} `);

    const diff = forge('diff', runs[1]?.id as string, runs[0]?.id as string);
    expect(diff.code).toBe(0);
    expect(diff.out).toContain('(same graph)');
    expect(diff.out).toMatch(/split\s+succeeded\s+cached/);

    const preview = forge('preview', train.slice(7, 20), '--limit', '2');
    expect(preview.out).toMatch(/2 of \d+ rows/);
  });

  it('validates, exports a pinned config, and refuses broken input with exit code 2', () => {
    expect(forge('validate', QUICKSTART).out).toMatch(/valid \(7 nodes, 6 edges\)/);
    const exported = forge('export', QUICKSTART, '-o', 'pinned.forge.json');
    expect(exported.code).toBe(0);
    const config = JSON.parse(readFileSync(join(project, 'pinned.forge.json'), 'utf8')) as { pins: { files: Record<string, unknown> } };
    expect(Object.keys(config.pins.files)).toHaveLength(2);
    const missing = forge('run', 'nope.forge.json');
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/nope\.forge\.json: file not found|file not found/);
    const usage = forge('run', QUICKSTART, '--node', 'a', '--from', 'b');
    expect(usage.code).toBe(2);
    expect(usage.err).toContain('give --node or --from, not both');
  });

  it('checks and rebuilds the provenance database', () => {
    expect(forge('db', 'check').out).toContain('integrity_check: ok');
    expect(forge('db', 'rebuild').out).toMatch(/replayed \d+ events/);
    expect(JSON.parse(forge('runs', '--json').out)).toHaveLength(2);
  });
});
