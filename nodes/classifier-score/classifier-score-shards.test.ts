import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SHARD_CACHE_DIR } from '../../engine/exec/shards/shard-cache.js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadClassifier } from '../_sdk/models/classifier.js';
import { twoClassCorpus } from '../_sdk/testing/corpus.js';
import { cleanupTempDirs, closeExecutor, DATASETS, graph, RESOURCES, runGraph, sharedExecutor, tempDir } from '../_sdk/testing/graph.js';
import { makeDataset, readDataset, runNode } from '../_sdk/testing/harness.js';
import train from '../classifier-train/index.js';
import score from './index.js';

// 500-row shards: the 2,399-row bundled pool is 5 input shards for the scorer. Set before the
// shared executor starts its worker threads, which copy the environment.
process.env.FORGE_SHARD_ROWS = '500';
const SHARDS = 5;

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

async function model() {
  const docs = twoClassCorpus(160, 0);
  const positives = await makeDataset(docs.filter((d) => d.label === 'api').map((d, i) => ({ id: `a${i}`, text: d.text })));
  const negatives = await makeDataset(docs.filter((d) => d.label === 'prose').map((d, i) => ({ id: `p${i}`, text: d.text })));
  const run = await runNode(train, { inputs: { positives, negatives }, params: { positiveLabel: 'agent', negativeLabel: 'general', dim: 8, bucket: 4000, epoch: 5, lr: 0.5 } });
  return run.outputs.model!;
}

describe('ml.classifier-score, one input shard at a time', () => {
  it('writes one output shard per input shard (empty ones too) whose rows equal a one-shard run and the model’s probabilities, in order', async () => {
    const m = await model();
    const rows = twoClassCorpus(24, 900).map((d, i) => ({ id: i, text: d.text, source: d.label }));
    // 24 rows in 7 shards of 4: the last one is empty.
    const sharded = await makeDataset(rows, { shards: 7 });
    const whole = await makeDataset(rows, { shards: 1 });
    const a = await runNode(score, { inputs: { model: m, in: sharded }, params: { allLabels: true } });
    const b = await runNode(score, { inputs: { model: m, in: whole }, params: { allLabels: true } });
    const shardFiles = (ref: typeof sharded) => ref.manifest.files.filter((f) => f.path.startsWith('shards/') && f.path.endsWith('.parquet')).length;
    expect(shardFiles(sharded)).toBe(7);
    expect(shardFiles(a.outputs.out!)).toBe(7);
    expect(a.outputs.out!.manifest.rows).toBe(24);
    expect(a.outputs.out!.manifest.schema).toEqual(b.outputs.out!.manifest.schema);
    const got = await readDataset(a.outputs.out!);
    expect(got).toEqual(await readDataset(b.outputs.out!));
    expect(got.map((r) => r.id)).toEqual(rows.map((r) => r.id));
    const { model: fm } = loadClassifier(m);
    const agent = fm.labels.indexOf('__label__agent');
    got.forEach((r, i) => expect(r.score).toBeCloseTo(fm.probabilities(fm.features(rows[i]!.text))[agent]!, 6));
    expect(a.logs.map((l) => l.message)).toContain('shards: 7 of 7 executed');
  });

  const POOL = join(DATASETS, 'labelled-pool/pool-small.jsonl');
  /** Scores the bundled pool with a classifier trained on its own agent vs other rows, `epoch` epochs. */
  const pipeline = (epoch: number) =>
    graph(
      [
        { id: 'pool', type: 'source.jsonl', params: { path: POOL } },
        { id: 'agent', type: 'transform.filter', params: { where: 'is_agent' } },
        { id: 'train', type: 'ml.classifier-train', params: { positiveLabel: 'agent', negativeLabel: 'general', dim: 8, bucket: 20_000, epoch } },
        { id: 'score', type: 'ml.classifier-score', params: {} },
      ],
      [
        ['pool.out', 'agent.in'],
        ['agent.out', 'train.positives'],
        ['agent.rejected', 'train.negatives'],
        ['train.model', 'score.model'],
        ['pool.out', 'score.in'],
      ],
    );
  /** Files in the workspace's shard cache: the filter's two ports and the scorer's one, per input shard. */
  const cachedShards = (ws: string) => readdirSync(join(ws, '.forge', SHARD_CACHE_DIR)).filter((f) => f.endsWith('.parquet')).length;

  it('runs as shard jobs over the worker threads, with the output of one unscheduled unit', async () => {
    const ws = tempDir();
    const split = await runGraph(pipeline(2), { dir: ws });
    try {
      expect(split.outcome('score').error).toBeUndefined();
      const log = (runId: string) => String((split.engine.ws.db.db.prepare("SELECT logs FROM executions WHERE run_id = ? AND node_id = 'score'").get(runId) as { logs: string | null }).logs);
      // The test executor has one thread: two jobs (a few per thread), each computing its shards into the shard cache.
      expect(log(split.summary.runId)).toContain(`2 shard jobs on up to 1 threads for input shards 0-${SHARDS - 1} of ${SHARDS}`);
      // A forced run has no shard cache, so the scorer runs as one unit: same bytes.
      const forced = await split.engine.run(pipeline(2), { baseDir: ws, trigger: 'test', executor: sharedExecutor(), allow: [RESOURCES], force: true });
      expect(forced.status).toBe('succeeded');
      expect(log(forced.runId)).not.toContain('shard jobs');
      const hash = (summary: typeof forced) => summary.nodes.find((n) => n.nodeId === 'score')?.outputs[0]?.hash;
      expect(hash(forced)).toBe(split.artifact('score', 'out').hash);
    } finally {
      split.close();
    }
  });

  it('a shard job that fails fails the node naming its shards and the node, and publishes nothing', async () => {
    const ws = tempDir();
    // An explicit GPU provider fails where there is none (CI never has one), inside each shard's scoring turn.
    const doc = pipeline(2);
    const scoreNode = doc.nodes.find((n) => n.id === 'score')!;
    scoreNode.params = { backend: 'onnx', provider: 'cuda' };
    const run = await runGraph(doc, { dir: ws, continueOnFailure: true });
    try {
      const o = run.outcome('score');
      expect(o.state).toBe('failed');
      // A clear error on the field, not an internal one, whichever shard job failed first.
      expect(o.error).toMatch(new RegExp(`^input shards [0-9-]+ of ${SHARDS}: execution provider "cuda" is not available here: .+ Use provider "auto"`));
      expect(o.location).toMatchObject({ nodeId: 'score', field: 'params.provider' });
      expect(o.outputs).toEqual([]);
      // Nothing of the scorer reached the shard cache or the store: only the filter's shards are cached.
      expect(cachedShards(ws)).toBe(2 * SHARDS);
      expect(run.engine.ws.db.db.prepare("SELECT count(*) AS n FROM artifacts a JOIN executions e ON e.id = a.producer_execution_id WHERE e.node_id = 'score'").get()).toEqual({ n: 0 });
    } finally {
      run.close();
    }
  });

  it('keys cached shards by the model too: scoring the same pool with a retrained model recomputes every shard', async () => {
    const ws = tempDir();
    const first = await runGraph(pipeline(2), { dir: ws });
    try {
      expect(first.outcome('score').error).toBeUndefined();
      expect(first.artifact('pool', 'out').manifest.files.filter((f) => f.path.startsWith('shards/')).length).toBe(SHARDS);
      expect(cachedShards(ws)).toBe(3 * SHARDS);
    } finally {
      first.close();
    }
    // Same pool shards, same scorer params, another model: a shard cache keyed without the model would hand back the old scores.
    const second = await runGraph(pipeline(6), { dir: ws });
    const fresh = await runGraph(pipeline(6));
    try {
      expect(second.outcome('score').error).toBeUndefined();
      // The filter was a node cache hit; the scorer wrote a new shard for every input shard.
      expect(second.outcome('agent').state).toBe('cached');
      expect(cachedShards(ws)).toBe(4 * SHARDS);
      expect(second.artifact('score', 'out').hash).toBe(fresh.artifact('score', 'out').hash);
      const { model: fm } = loadClassifier(second.artifact('train', 'model'));
      const rows = await second.rows('score');
      expect(rows).toHaveLength(2399);
      const agent = fm.labels.indexOf('__label__agent');
      for (const i of [0, 499, 500, 1700, 2398]) expect(rows[i]!.score).toBeCloseTo(fm.probabilities(fm.features(String(rows[i]!.text)))[agent]!, 6);
    } finally {
      second.close();
      fresh.close();
    }
  });
});
