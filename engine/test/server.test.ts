import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunEvent } from '../exec/events.js';
import { startServer } from '../server/server.js';
import { cleanupTemp, QUICKSTART, readDoc, runFile, setNodeParams } from './helpers.js';
import { closeServed, serveProject } from './served.js';

afterEach(async () => {
  await closeServed();
  cleanupTemp();
});

function rawGet(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('engine server', () => {
  it('binds loopback only and refuses to listen elsewhere', async () => {
    const { base, server, engine } = await serveProject();
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48}$/);
    expect(base).toContain('127.0.0.1');
    await expect(startServer(engine, { host: '0.0.0.0' })).rejects.toThrow(/loopback only/);
  });

  it('answers 401 without the token or with a wrong one, 200 with it', async () => {
    const { base, token } = await serveProject();
    expect((await fetch(`${base}/api/health`)).status).toBe(401);
    expect((await fetch(`${base}/api/health`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    const ok = await fetch(`${base}/api/health`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { ok: boolean }).ok).toBe(true);
  });

  it('rejects foreign origins and DNS-rebinding hosts even with the token', async () => {
    const { token, server } = await serveProject();
    const port = server.port;
    expect(await rawGet(port, `/api/health?token=${token}`, { origin: 'https://evil.example' })).toBe(403);
    expect(await rawGet(port, `/api/health?token=${token}`, { host: `evil.example:${port}` })).toBe(403);
    expect(await rawGet(port, `/api/health?token=${token}`, { origin: `http://127.0.0.1:${port}` })).toBe(200);
  });

  it('refuses WebSocket subscriptions without the token', async () => {
    const { server } = await serveProject();
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events`);
    const outcome = await new Promise<string>((resolve) => {
      ws.on('open', () => resolve('open'));
      ws.on('error', (e) => resolve(String(e.message)));
    });
    expect(outcome).toMatch(/401/);
  });

  it('lists node types with JSON Schemas, runs a graph, streams events and previews outputs', async () => {
    const { project, base, token, server } = await serveProject();
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const types = (await (await fetch(`${base}/api/node-types`, { headers: auth })).json()) as { type: string; paramsSchema: { properties: Record<string, unknown> } }[];
    const jsonl = types.find((t) => t.type === 'source.jsonl');
    expect(Object.keys(jsonl?.paramsSchema.properties ?? {})).toEqual(expect.arrayContaining(['path', 'textField']));

    const events: RunEvent[] = [];
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events?token=${token}`);
    await new Promise((r) => ws.on('open', r));
    const finished = new Promise<void>((resolve) =>
      ws.on('message', (m: Buffer) => {
        const e = JSON.parse(m.toString()) as RunEvent;
        events.push(e);
        if (e.type === 'run.finished') resolve();
      }),
    );
    const doc = readDoc(project);
    const res = await fetch(`${base}/api/runs`, { method: 'POST', headers: auth, body: JSON.stringify({ doc, path: QUICKSTART }) });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    await finished;
    ws.close();
    expect(
      events
        .filter((e) => e.type === 'node.finished')
        .map((e) => (e as { nodeId: string }).nodeId)
        .sort(),
    ).toEqual(['api_docs', 'mix', 'prose', 'shuffle', 'split', 'substantial', 'write_train']);

    const run = (await (await fetch(`${base}/api/runs/${runId}`, { headers: auth })).json()) as { status: string; executions: { nodeId: string; outputs: { port: string; hash: string }[] }[] };
    expect(run.status).toBe('succeeded');
    const loader = run.executions.find((e) => e.nodeId === 'api_docs');
    const hash = loader?.outputs[0]?.hash as string;
    const preview = (await (await fetch(`${base}/api/artifacts/${hash}/preview?limit=3`, { headers: auth })).json()) as { rows: number; records: { text: string; source: string }[] };
    expect(preview.rows).toBe(94);
    expect(preview.records).toHaveLength(3);
    expect(preview.records[0]?.source).toBe('torchhub-api');
    expect(preview.records[0]?.text).toMatch(/ResNet|model|Torch|network/i);
  });

  it('reports invalid graphs as 400 with diagnostics, and keeps file access inside the workspace', async () => {
    const { project, base, token } = await serveProject();
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const doc = readDoc(project);
    doc.edges.push({ from: { node: 'write_train', port: 'report' }, to: { node: 'shuffle', port: 'in' } });
    const res = await fetch(`${base}/api/runs`, { method: 'POST', headers: auth, body: JSON.stringify({ doc }) });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { diagnostics: { code: string }[] };
    expect(body.diagnostics.map((d) => d.code)).toContain('kind-mismatch');
    const outside = await fetch(`${base}/api/graphs/file?path=${encodeURIComponent('../../etc/passwd')}`, { headers: auth });
    expect(outside.status).toBe(403);
    const saved = await fetch(`${base}/api/graphs/file`, { method: 'PUT', headers: auth, body: JSON.stringify({ path: 'mine/g.forge.json', doc: readDoc(project) }) });
    expect(saved.status).toBe(200);
    const loaded = (await (await fetch(`${base}/api/graphs/file?path=mine/g.forge.json`, { headers: auth })).json()) as { doc: { nodes: unknown[] } };
    expect(loaded.doc.nodes).toHaveLength(7);
    expect(existsSync(join(project, 'mine/g.forge.json'))).toBe(true);
  });

  it('answers the row-count history of many nodes in one request, oldest first, and says which field is wrong', async () => {
    const { project, engine, send } = await serveProject();
    await runFile(engine, project, QUICKSTART, { mode: 'node', target: 'substantial' });
    setNodeParams(project, 'substantial', { where: 'length(text) >= 400' });
    await runFile(engine, project, QUICKSTART, { mode: 'node', target: 'substantial' });
    // Back to the first filter: the first run's count again.
    setNodeParams(project, 'substantial', { where: 'length(text) >= 120' });
    await runFile(engine, project, QUICKSTART, { mode: 'node', target: 'substantial' });

    const res = await send('/api/row-history', { nodes: ['substantial', 'api_docs', 'no_such_node'], limit: 10 });
    expect(res.status).toBe(200);
    const h = (await res.json()) as Record<string, { rows: number; port: string; cached: boolean }[]>;
    // A filter has two dataset outputs (kept and rejected); each port has its own series.
    const kept = (h.substantial ?? []).filter((p) => p.port === 'out');
    expect(new Set((h.substantial ?? []).map((p) => p.port)).size).toBe(2);
    const counts = kept.map((p) => p.rows);
    expect(counts).toHaveLength(3);
    expect(counts[0]).toBeGreaterThan(counts[1] as number);
    expect(counts[2]).toBe(counts[0]);
    // The loader ran once and was served from the cache twice: 94 rows each time.
    expect((h.api_docs ?? []).map((p) => p.rows)).toEqual([94, 94, 94]);
    expect((h.api_docs ?? []).map((p) => p.cached)).toEqual([false, true, true]);
    expect(h.no_such_node).toEqual([]);
    // The limit keeps the newest executions.
    const last = (await (await send('/api/row-history', { nodes: ['api_docs'], limit: 1 })).json()) as Record<string, { cached: boolean }[]>;
    expect(last.api_docs?.map((p) => p.cached)).toEqual([true]);

    const bad = await send('/api/row-history', { nodes: [] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^nodes:/);
  });
});
