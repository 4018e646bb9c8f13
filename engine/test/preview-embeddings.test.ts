import { afterEach, describe, expect, it } from 'vitest';
import { pca2 } from '../util/pca.js';
import { previewArtifact } from '../store/preview.js';
import type { Engine } from '../engine.js';
import { cleanupTemp, openEngine, outputHashes, readDoc, runFile, tempProject, writeDoc } from './helpers.js';

let engine: Engine | undefined;
afterEach(() => {
  engine?.close();
  engine = undefined;
  cleanupTemp();
});

describe('embeddings preview', () => {
  it('pca2 finds the two axes planted in the data and their share of the variance', () => {
    // Points spread 3 units along e2 and 1 unit along e4 of a 5-d space, nothing elsewhere.
    const n = 200;
    const d = 5;
    const x = new Float64Array(n * d);
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < n; i++) {
      // ±3 and ±1 in all four combinations: uncorrelated, so e2 and e4 are exactly the components.
      a.push(i % 2 === 0 ? 3 : -3);
      b.push(Math.floor(i / 2) % 2 === 0 ? 1 : -1);
      x[i * d + 2] = (a[i] as number) + 10;
      x[i * d + 4] = b[i] as number;
    }
    const { coords, explained } = pca2(x, n, d);
    expect(explained).toBeCloseTo(1, 6);
    const meanA = a.reduce((s, v) => s + v, 0) / n;
    const meanB = b.reduce((s, v) => s + v, 0) / n;
    for (let i = 0; i < n; i++) {
      // Components are defined up to sign.
      expect(Math.abs(coords[2 * i] as number)).toBeCloseTo(Math.abs((a[i] as number) - meanA), 6);
      expect(Math.abs(coords[2 * i + 1] as number)).toBeCloseTo(Math.abs((b[i] as number) - meanB), 6);
    }
  });

  it('projects an embedder output with one point per row, coloured by the source dataset', async () => {
    const project = tempProject();
    const doc = readDoc(project);
    doc.nodes = doc.nodes.filter((n) => ['api_docs', 'prose', 'mix'].includes(n.id));
    doc.nodes.push({ id: 'embed', type: 'ml.embed', params: {}, position: { x: 900, y: 100 } });
    doc.edges = doc.edges.filter((e) => e.to.node === 'mix' && e.from.node !== 'substantial');
    doc.edges.push({ from: { node: 'api_docs', port: 'out' }, to: { node: 'mix', port: 'a' } });
    doc.edges.push({ from: { node: 'mix', port: 'out' }, to: { node: 'embed', port: 'in' } });
    writeDoc(project, 'resources/examples/embed.forge.json', doc);
    engine = openEngine(project);
    const run = await runFile(engine, project, 'resources/examples/embed.forge.json');
    expect(run.status).toBe('succeeded');
    const hashes = outputHashes(engine, run.runId);
    const mixed = engine.ws.store.ref(hashes['mix.out'] as string);
    const emb = engine.ws.store.ref(hashes['embed.out'] as string);
    const store = engine.ws.store;
    const p = await previewArtifact(emb, engine.ws.tmpDir, 0, 10, (h) => (store.has(h) ? store.ref(h) : null));
    expect(p.projection?.count).toBe(mixed.manifest.rows);
    expect(p.projection?.points).toHaveLength(Math.min(2000, mixed.manifest.rows ?? 0));
    expect(new Set(p.projection?.points.map((pt) => pt.group))).toEqual(new Set(['torchhub-api', 'gutenberg']));
    expect(p.projection?.points.every((pt) => Number.isFinite(pt.x) && Number.isFinite(pt.y))).toBe(true);
    // Without the source dataset the points are still there, just not coloured.
    const bare = await previewArtifact(emb, engine.ws.tmpDir);
    expect(bare.projection?.points.every((pt) => pt.group === null)).toBe(true);
  });
});
