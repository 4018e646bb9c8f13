import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../engine.js';
import { defaultRegistry } from '../../composition/registry.js';
import { graph } from '../../nodes/_sdk/testing/graph.js';
import { outputHashes, REPO } from './helpers.js';

const CLI = join(REPO, 'bin/forge.cjs');
let dir: string;

const GRAPH_DOC = graph(
  [
    { id: 'load', type: 'source.jsonl', params: { path: 'big.jsonl', idField: 'id' } },
    { id: 'keep', type: 'transform.filter', params: { where: 'score > 0.3' } },
    { id: 'shuffle', type: 'transform.sample', params: { mode: 'shuffle' } },
    { id: 'split', type: 'transform.split', params: { testFraction: 0.1 } },
  ],
  [
    ['load.out', 'keep.in'],
    ['keep.out', 'shuffle.in'],
    ['shuffle.out', 'split.in'],
  ],
  1,
);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'forge-crash-'));
  const words = 'agent tool call api schema function argument result prose tale king forest river'.split(' ');
  const out = createWriteStream(join(dir, 'big.jsonl'));
  for (let i = 0; i < 250_000; i++) {
    const text = Array.from({ length: 30 }, (_, k) => words[(i * 7 + k * 13) % words.length]).join(' ');
    out.write(`${JSON.stringify({ id: `d${i}`, text, score: ((i * 7919) % 1000) / 1000 })}\n`);
  }
  await new Promise<void>((r) => out.end(r));
  writeFileSync(join(dir, 'g.forge.json'), JSON.stringify(GRAPH_DOC));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `forge run`, waits until the given node has started, then SIGKILLs the process. */
function killDuring(workspace: string, nodeId: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'run', join(dir, 'g.forge.json'), '-w', workspace], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes(`▶ ${nodeId}`) && !child.killed) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`run ended by itself (code ${code}) before it could be killed:\n${err}`))));
  });
}

describe('Ctrl-C', () => {
  it('cancels a CLI run cleanly: exit 130, run recorded as cancelled, nothing half-published', async () => {
    const ws = join(dir, 'ws-sigint');
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'run', join(dir, 'g.forge.json'), '-w', ws], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      let sent = false;
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (!sent && err.includes('▶ keep')) {
          sent = true;
          child.kill('SIGINT');
        }
      });
      child.on('exit', (c) => resolve({ code: c, stderr: err }));
    });
    expect(stderr).toContain('cancelling');
    expect(code).toBe(130);
    const engine = Engine.open(ws, defaultRegistry());
    try {
      const run = engine.ws.queries.listRuns(1)[0];
      expect(run?.status).toBe('cancelled');
      const statuses = engine.ws.db.db.prepare('SELECT node_id, status FROM executions WHERE run_id = ? ORDER BY node_id').all(run?.id);
      expect(statuses).toEqual([
        { node_id: 'keep', status: 'cancelled' },
        { node_id: 'load', status: 'succeeded' },
        { node_id: 'shuffle', status: 'skipped' },
        { node_id: 'split', status: 'skipped' },
      ]);
      const fromKeep = engine.ws.db.db.prepare("SELECT count(*) AS n FROM artifacts a JOIN executions e ON e.id = a.producer_execution_id WHERE e.node_id = 'keep'").get() as { n: number };
      expect(fromKeep.n).toBe(0);
      expect(readdirSync(join(ws, '.forge/staging'))).toEqual([]);
    } finally {
      engine.close();
    }
  });
});

describe('crash safety', () => {
  it('survives SIGKILL mid-run: DB intact, run interrupted, next run completes with the same hashes', async () => {
    const reference = join(dir, 'ws-reference');
    const refEngine = Engine.open(reference, defaultRegistry());
    let expected: Record<string, string>;
    try {
      const { doc, file, baseDir } = refEngine.loadFile(join(dir, 'g.forge.json'));
      const run = await refEngine.run(doc, { file, baseDir });
      expect(run.status).toBe('succeeded');
      expected = outputHashes(refEngine, run.runId);
    } finally {
      refEngine.close();
    }

    const ws = join(dir, 'ws-crash');
    for (const victim of ['load', 'keep', 'shuffle']) {
      await killDuring(ws, victim);
      const engine = Engine.open(ws, defaultRegistry()); // opening marks dead runs interrupted and sweeps staging
      try {
        expect(engine.ws.db.integrityCheck()).toBe('ok');
        const last = engine.ws.queries.listRuns(1)[0];
        expect(last?.status).toBe('interrupted');
        const running = engine.ws.db.db.prepare("SELECT count(*) AS n FROM executions WHERE status = 'running'").get() as { n: number };
        expect(running.n).toBe(0);
        expect(readdirSync(join(ws, '.forge/staging'))).toEqual([]);
        for (const a of engine.ws.db.db.prepare('SELECT hash FROM artifacts').all() as { hash: string }[]) expect(engine.ws.store.has(a.hash)).toBe(true);
      } finally {
        engine.close();
      }
    }

    const engine = Engine.open(ws, defaultRegistry());
    try {
      const { doc, file, baseDir } = engine.loadFile(join(dir, 'g.forge.json'));
      const run = await engine.run(doc, { file, baseDir });
      expect(run.status).toBe('succeeded');
      expect(outputHashes(engine, run.runId)).toEqual(expected);
      expect(engine.ws.queries.listRuns(10).filter((r) => r.status === 'interrupted')).toHaveLength(3);
    } finally {
      engine.close();
    }
  });
});
