import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { GraphDocument } from '../graph/document.js';
import { cleanupTemp, readDoc } from './helpers.js';
import { closeServed, serveProject } from './served.js';

const outsides: string[] = [];

afterEach(closeServed);
afterAll(() => {
  cleanupTemp();
  for (const d of outsides) rmSync(d, { recursive: true, force: true });
});

async function start() {
  const { project, get, send } = await serveProject();
  return { project, get, post: send };
}

function outsideDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'forge-outside-'));
  outsides.push(d);
  writeFileSync(join(d, 'secret.txt'), 'secret\n');
  return d;
}

const GRAPH = 'resources/examples/quickstart.forge.json';

describe('server: trust is enforced for every client', () => {
  it('refuses an untrusted run with 403 naming what needs trust; the trust endpoint records consent', async () => {
    const { project, post } = await start();
    const outside = outsideDir();
    const doc: GraphDocument = readDoc(project);
    const writer = doc.nodes.find((n) => n.id === 'write_train');
    if (writer) writer.params.path = join(outside, 'train.jsonl');
    const refused = await post('/api/runs', { doc, path: GRAPH });
    expect(refused.status).toBe(403);
    const body = (await refused.json()) as { error: string; needsTrust: { nodeId: string; field: string }[] };
    expect(body.needsTrust).toEqual([expect.objectContaining({ nodeId: 'write_train', field: 'params.path' })]);
    const check = (await (await post('/api/trust/check', { doc, path: GRAPH })).json()) as { trusted: boolean };
    expect(check.trusted).toBe(false);
    expect((await post('/api/trust', { doc, path: GRAPH })).status).toBe(200);
    expect(((await (await post('/api/trust/check', { doc, path: GRAPH })).json()) as { trusted: boolean }).trusted).toBe(true);
    expect((await post('/api/runs', { doc, path: GRAPH })).status).toBe(202);
  });

  it('refuses train.external commands over the API without consent', async () => {
    const { project, post } = await start();
    const doc = readDoc(project);
    doc.nodes.push({ id: 'ext', type: 'train.external', params: { command: 'touch /tmp/forge-pwned', tokenizer: '../models/all-MiniLM-L6-v2-tokenizer' } } as GraphDocument['nodes'][number]);
    doc.edges.push({ from: { node: 'split', port: 'train' }, to: { node: 'ext', port: 'train' } } as GraphDocument['edges'][number]);
    const res = await post('/api/runs', { doc, path: GRAPH });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toMatch(/ext params\.command runs code/);
  });
});

describe('server hygiene', () => {
  it('validates artifact ids as hashes (no ../ traversal)', async () => {
    const { get } = await start();
    for (const id of ['..%2F..%2F..%2Fetc', '..%2F..%2F', 'sha256:xyz', '%E0%A4%A']) {
      const res = await get(`/api/artifacts/${id}/preview`);
      expect(res.status, id).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/^artifact: /);
    }
    expect((await get(`/api/artifacts/sha256:${'0'.repeat(64)}/preview`)).status).toBe(404);
    expect((await get(`/api/artifacts/..%2F..%2F/lineage`)).status).toBe(400);
  });

  it('serves graph documents only: not the provenance DB, not other files, not through symlinks out', async () => {
    const { project, get, post } = await start();
    expect((await get(`/api/graphs/file?path=${encodeURIComponent('.forge/provenance.sqlite')}`)).status).toBe(403);
    writeFileSync(join(project, 'notes.txt'), 'hello');
    expect((await get('/api/graphs/file?path=notes.txt')).status).toBe(400);
    const outside = outsideDir();
    writeFileSync(join(outside, 'x.forge.json'), JSON.stringify(readDoc(project)));
    symlinkSync(outside, join(project, 'linked'));
    expect((await get('/api/graphs/file?path=linked/x.forge.json')).status).toBe(403);
    // Writes through the link are refused too.
    expect((await post('/api/graphs/file', { path: 'linked/y.forge.json', doc: readDoc(project) }, 'PUT')).status).toBe(403);
    const files = (await (await get('/api/files')).json()) as { path: string }[];
    expect(files.some((f) => f.path.startsWith('linked/'))).toBe(false);
  });

  it('answers 400 naming the field for bad queries and bodies', async () => {
    const { get, post } = await start();
    const limit = await get('/api/runs?limit=abc');
    expect(limit.status).toBe(400);
    expect(((await limit.json()) as { error: string }).error).toMatch(/^limit: /);
    expect((await post('/api/runs', 'null')).status).toBe(400);
    const mode = await post('/api/runs', { doc: {}, mode: 'everything' });
    expect(mode.status).toBe(400);
    expect(((await mode.json()) as { error: string }).error).toMatch(/^mode: /);
    const force = await post('/api/runs', { doc: {}, force: 'yes' });
    expect(((await force.json()) as { field: string }).field).toBe('force');
    expect((await get('/api/artifacts/sha256:' + '0'.repeat(64) + '/preview?limit=-5')).status).toBe(400);
  });

  it('refuses a FIFO source before opening it, and keeps answering other requests', async () => {
    const { project, get, post } = await start();
    const fifo = join(project, 'resources/examples/pipe.jsonl');
    execFileSync('mkfifo', [fifo]);
    const doc = {
      format: 'forge-graph',
      version: 2,
      seed: 1,
      nodes: [{ id: 'src', type: 'source.jsonl', params: { path: 'pipe.jsonl', source: 'x' } }],
      edges: [],
    };
    const res = await post('/api/runs', { doc, path: GRAPH });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/src: .*pipe\.jsonl is a FIFO/);
    expect((await get('/api/health')).status).toBe(200);
    mkdirSync(join(project, 'x'), { recursive: true });
  });
});
