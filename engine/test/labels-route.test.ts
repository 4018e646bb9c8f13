import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { executedNodes, cachedNodes, cleanupTemp, runFile } from './helpers.js';
import { closeServed, serveProject } from './served.js';

const GRAPH = 'resources/examples/labelling.forge.json';

afterEach(async () => {
  await closeServed();
  cleanupTemp();
});

describe('labels API and the labelling node', () => {
  it('saves labels through PUT /api/labels, which makes the node rerun with them (and only it)', async () => {
    const { project, engine, get, send } = await serveProject();

    const first = await runFile(engine, project, GRAPH);
    expect(first.status).toBe('succeeded');
    const out = first.nodes.find((n) => n.nodeId === 'label')!.outputs.find((o) => o.port === 'labels')!;
    const manifest = engine.ws.store.ref(out.hash).manifest;
    const sample = String(manifest.meta.sampleHash);
    expect(out.rows).toBe(40);

    const q = `node=label&sample=${sample}&path=${encodeURIComponent(GRAPH)}`;
    const empty = (await (await get(`/api/labels?${q}`)).json()) as { labels: Record<string, boolean>; file: string };
    expect(empty).toMatchObject({ labels: {}, file: `resources/examples/labels/label/${sample}.json` });

    // Bad bodies: 400 naming the field.
    const bad = await send('/api/labels', { node: 'label', sample, path: GRAPH, labels: { a: 'yes' } }, 'PUT');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^labels\.a: /);
    const badSample = await send('/api/labels', { node: 'label', sample: '../../etc', labels: {} }, 'PUT');
    expect(badSample.status).toBe(400);
    expect(((await badSample.json()) as { error: string }).error).toMatch(/^sample: not a sample hash/);
    expect((await get(`/api/labels?node=a/b&sample=${sample}`)).status).toBe(400);
    expect((await send('/api/labels', { node: 'label', sample, path: '../outside.forge.json', labels: {} }, 'PUT')).status).toBe(403);

    const put = await send('/api/labels', { node: 'label', sample, path: GRAPH, labels: { 'some-id': true, other: false } }, 'PUT');
    expect(put.status).toBe(200);
    const file = join(project, 'resources/examples/labels/label', `${sample}.json`);
    expect(existsSync(file)).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ format: 'forge.labels', node: 'label', sample, labels: { other: false, 'some-id': true } });
    expect(((await (await get(`/api/labels?${q}`)).json()) as { labels: Record<string, boolean> }).labels).toEqual({ 'some-id': true, other: false });

    // The labels file is an input of the labelling node: it reruns, its upstream is cached.
    const second = await runFile(engine, project, GRAPH);
    expect(executedNodes(engine, second.runId)).toEqual(['label']);
    expect(cachedNodes(engine, second.runId)).toEqual(['bm25', 'pool', 'seeds']);
    const third = await runFile(engine, project, GRAPH);
    expect(cachedNodes(engine, third.runId)).toEqual(['bm25', 'label', 'pool', 'seeds']);
  });
});
