import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GraphDocument } from '../../../engine/graph/document.js';
import { cachedNodes, cleanupTemp, executedNodes, openEngine, outputHashes, runFile, tempProject } from '../../../engine/test/helpers.js';

/**
 * The three ML node families inside one graph, run by the engine (worker threads, artifact store,
 * provenance): seed/pool/prose sources → hashed embedder → HNSW index → retriever → classifier
 * train → score → threshold. Then a rerun served entirely from cache, and a param edit that
 * re-executes only the threshold.
 */

const GRAPH = 'ml/pipeline.forge.json';

const TASKS = ['image classification', 'object detection', 'speech recognition', 'text summarization', 'translation', 'sentiment analysis', 'depth estimation', 'semantic segmentation'];
const MODELS = ['resnet50', 'yolov5s', 'wav2vec2', 'bart-large', 'marian-mt', 'distilbert', 'midas', 'deeplabv3'];
const PROSE = [
  'Once upon a time there lived a king who had three daughters, and the youngest was so beautiful that the sun itself wondered at her face.',
  'The miller went home sadly, for his wife had died and his children were hungry, and the wolf waited in the dark forest.',
  'In a little cottage by the river lived an old fisherman and his wife, who wished every day for a palace of gold.',
  'The princess wept by the well, and a frog put its head out of the water and asked her why she cried so bitterly.',
  'The brave tailor sewed seven flies with one blow and went out into the world to seek his fortune among giants.',
  'Snow fell softly on the mountain while the shepherd told his sons the old tale of the dragon and the enchanted sword.',
];

function apiDoc(i: number): string {
  const t = TASKS[i % TASKS.length]!;
  const m = MODELS[(i * 3) % MODELS.length]!;
  return `API documentation: load the pretrained ${m} model for ${t} with torch.hub.load(repo_or_dir='hub/${m}', model='${m}', pretrained=True). Arguments: pretrained (bool), device (str). Returns a torch.nn.Module; call model.eval() before inference. Example ${i}.`;
}

function prose(i: number): string {
  return `${PROSE[i % PROSE.length]} And so it happened on day ${i} of the journey.`;
}

function jsonl(rows: { id: string; text: string }[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

function writeProject(project: string): void {
  const dir = join(project, 'ml');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'seeds.jsonl'), jsonl(Array.from({ length: 24 }, (_, i) => ({ id: `seed-${i}`, text: apiDoc(i) }))));
  writeFileSync(join(dir, 'pool.jsonl'), jsonl(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? { id: `pool-${i}`, text: apiDoc(100 + i) } : { id: `pool-${i}`, text: prose(100 + i) }))));
  writeFileSync(join(dir, 'prose.jsonl'), jsonl(Array.from({ length: 24 }, (_, i) => ({ id: `prose-${i}`, text: prose(i) }))));
  const hashed = { dim: 32, buckets: 4096, minn: 3, maxn: 4, wordNgrams: 2, seed: 0, preprocess: 'lower-punct' };
  const doc: GraphDocument = {
    format: 'forge-graph',
    version: 2,
    name: 'ML pipeline test',
    seed: 7,
    nodes: [
      { id: 'seeds', type: 'source.jsonl', params: { path: 'seeds.jsonl', idField: 'id', source: 'seed' } },
      { id: 'pool', type: 'source.jsonl', params: { path: 'pool.jsonl', idField: 'id', source: 'pool' } },
      { id: 'prose', type: 'source.jsonl', params: { path: 'prose.jsonl', idField: 'id', source: 'prose' } },
      { id: 'embed_seeds', type: 'ml.embed', params: { hashed, provider: 'auto' } },
      { id: 'embed_pool', type: 'ml.embed', params: { hashed, provider: 'cpu' } },
      { id: 'index', type: 'ml.index-hnsw', params: { connectivity: 8, expansionAdd: 32, threads: 1 } },
      { id: 'retrieve', type: 'ml.retrieve', params: { mode: 'pool', targetCount: 20, search: 'hnsw', expansionSearch: 32 } },
      { id: 'train', type: 'ml.classifier-train', params: { positiveLabel: 'api', negativeLabel: 'prose', dim: 16, bucket: 5000, epoch: 10, lr: 0.5, holdout: 0.25 } },
      { id: 'score', type: 'ml.classifier-score', params: { positiveLabel: 'api' } },
      { id: 'threshold', type: 'ml.threshold', params: { scoreColumn: 'score', threshold: 0.5, labelColumn: 'is_api', positiveValue: 'true' } },
      { id: 'label', type: 'transform.sql', params: { query: "SELECT *, starts_with(text, 'API documentation') AS is_api FROM a" } },
    ] as GraphDocument['nodes'],
    edges: [
      { from: { node: 'seeds', port: 'out' }, to: { node: 'embed_seeds', port: 'in' } },
      { from: { node: 'pool', port: 'out' }, to: { node: 'embed_pool', port: 'in' } },
      { from: { node: 'embed_seeds', port: 'out' }, to: { node: 'index', port: 'in' } },
      { from: { node: 'embed_seeds', port: 'out' }, to: { node: 'retrieve', port: 'seeds' } },
      { from: { node: 'embed_pool', port: 'out' }, to: { node: 'retrieve', port: 'pool' } },
      { from: { node: 'pool', port: 'out' }, to: { node: 'retrieve', port: 'poolData' } },
      { from: { node: 'index', port: 'out' }, to: { node: 'retrieve', port: 'index' } },
      { from: { node: 'seeds', port: 'out' }, to: { node: 'train', port: 'positives' } },
      { from: { node: 'prose', port: 'out' }, to: { node: 'train', port: 'negatives' } },
      { from: { node: 'train', port: 'model' }, to: { node: 'score', port: 'model' } },
      { from: { node: 'pool', port: 'out' }, to: { node: 'label', port: 'a' } },
      { from: { node: 'label', port: 'out' }, to: { node: 'score', port: 'in' } },
      { from: { node: 'score', port: 'out' }, to: { node: 'threshold', port: 'in' } },
    ],
  };
  writeFileSync(join(project, GRAPH), JSON.stringify(doc, null, 2));
}

const ALL = ['embed_pool', 'embed_seeds', 'index', 'label', 'pool', 'prose', 'retrieve', 'score', 'seeds', 'threshold', 'train'];

afterEach(cleanupTemp);

function metricsOf(engine: ReturnType<typeof openEngine>, runId: string, key: string): Record<string, number | string> {
  const hash = outputHashes(engine, runId)[key];
  if (!hash) throw new Error(`no output ${key}`);
  return JSON.parse(readFileSync(join(engine.ws.store.pathOf(hash), 'metrics.json'), 'utf8')) as Record<string, number | string>;
}

describe('ML nodes in a graph', () => {
  it('embed → index → retrieve and train → score → threshold run, then rerun from cache', async () => {
    const project = tempProject();
    writeProject(project);
    const engine = openEngine(project);
    try {
      const first = await runFile(engine, project, GRAPH);
      expect(first.status).toBe('succeeded');
      expect(executedNodes(engine, first.runId)).toEqual(ALL);

      // Retriever: a target count of 20 out of 40 pool rows, and the 20 API docs are the ones nearest the API seeds.
      const r = metricsOf(engine, first.runId, 'retrieve.metrics');
      expect(r.retrieved).toBe(20);
      expect(r.rest).toBe(20);
      expect(r.recall_at_1).toBeGreaterThanOrEqual(0.9);
      const retrieved = engine.ws.store.manifest(outputHashes(engine, first.runId)['retrieve.retrieved']!);
      expect(retrieved.rows).toBe(20);
      expect(retrieved.schema?.map((c) => c.name)).toEqual(expect.arrayContaining(['id', 'text', 'source', 'similarity', 'nearest_seed']));

      // Classifier: API docs vs prose is separable; the threshold node sees the same on the pool.
      const t = metricsOf(engine, first.runId, 'train.metrics');
      expect(t.accuracy).toBe(1);
      const th = metricsOf(engine, first.runId, 'threshold.metrics');
      expect(th.rows_in).toBe(40);
      expect(th.kept).toBe(20);
      expect(th.precision).toBe(1);
      expect(th.recall).toBe(1);
      const chart = JSON.parse(readFileSync(join(engine.ws.store.pathOf(outputHashes(engine, first.runId)['threshold.chart']!), 'chart.json'), 'utf8')) as { $schema: string; layer: unknown[] };
      expect(chart.$schema).toContain('vega-lite/v6');
      expect(chart.layer.length).toBe(2);

      // The provider actually used is recorded per execution.
      const devices = engine.ws.db.db.prepare('SELECT node_id, device FROM executions WHERE run_id = ? AND node_id IN (?, ?) ORDER BY node_id').all(first.runId, 'embed_pool', 'embed_seeds') as {
        node_id: string;
        device: string;
      }[];
      expect(devices.map((d) => d.device)).toEqual(['cpu', 'cpu']);

      const second = await runFile(engine, project, GRAPH);
      expect(second.status).toBe('succeeded');
      expect(executedNodes(engine, second.runId)).toEqual([]);
      expect(cachedNodes(engine, second.runId)).toEqual(ALL);
      expect(outputHashes(engine, second.runId)).toEqual(outputHashes(engine, first.runId));

      // Re-deciding is cheap: a new threshold re-executes only the threshold node.
      const doc = JSON.parse(readFileSync(join(project, GRAPH), 'utf8')) as GraphDocument;
      doc.nodes.find((n) => n.id === 'threshold')!.params = { scoreColumn: 'score', threshold: 0.9, labelColumn: 'is_api', positiveValue: 'true' };
      writeFileSync(join(project, GRAPH), JSON.stringify(doc, null, 2));
      const third = await runFile(engine, project, GRAPH);
      expect(executedNodes(engine, third.runId)).toEqual(['threshold']);
      expect(cachedNodes(engine, third.runId)).toEqual(ALL.filter((n) => n !== 'threshold'));
    } finally {
      engine.close();
    }
  });
});
