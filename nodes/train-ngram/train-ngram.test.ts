import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NgramModel } from '../_sdk/models/ngram-model.js';
import { cleanupTempDirs, closeExecutor, DATASETS, graph, runGraph, TOKENIZER, withGraphRun } from '../_sdk/testing/graph.js';
import { loadTokenizer } from '../_sdk/text/tokenizer.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

const GRIMM = join(DATASETS, 'prose/grimms-fairy-tales.txt');

const doc = (params: Record<string, unknown>) =>
  graph(
    [
      { id: 'prose', type: 'source.text-folder', params: { pattern: GRIMM, unit: 'paragraph', minChars: 40 } },
      { id: 'lm', type: 'train.ngram', params: { tokenizer: TOKENIZER, ...params } },
    ],
    [['prose.out', 'lm.train']],
  );

describe('train.ngram node', () => {
  it('trains a trigram KN model on real prose: documented artifact, deterministic bytes, sane scores', async () => {
    const run = await runGraph(doc({ order: 3 }));
    try {
      expect(run.outcome('lm').error).toBeUndefined();
      const ref = run.artifact('lm', 'model');
      for (const f of ['model.json', 'model.bin', 'tokenizer.json', 'tokenizer_config.json']) expect(existsSync(join(ref.dir, f))).toBe(true);
      const header = JSON.parse(readFileSync(join(ref.dir, 'model.json'), 'utf8'));
      expect(header).toMatchObject({ format: 'forge-ngram-lm', version: 1, order: 3, vocabSize: 30522, bos: 30522, eos: 30523, uniformSize: 30523 });
      expect(header.training.tokens).toBeGreaterThan(100_000);
      expect(header.ngrams[0]).toBeLessThan(header.ngrams[1]);
      const m = run.metrics('lm');
      expect(m.tokens).toBe(header.training.tokens);
      expect(m.discount_fallback_orders).toBe('');

      const model = NgramModel.load(ref.dir);
      const tok = loadTokenizer(join(ref.dir, 'tokenizer.json'), '/');
      const seen = model.scoreDocument(tok.encode('The king had a beautiful daughter.'));
      const odd = model.scoreDocument(tok.encode('daughter beautiful a had king The.'));
      expect(seen.nll / seen.predictions).toBeLessThan(odd.nll / odd.predictions);

      // Same inputs in another workspace → byte-identical model (same artifact hash).
      expect(await withGraphRun(doc({ order: 3 }), {}, (again) => again.artifact('lm', 'model').hash)).toBe(ref.hash);
    } finally {
      run.close();
    }
  });

  it('pruning shrinks the model; a tokenizer that cannot be loaded is a node error', async () => {
    const run = await runGraph(doc({ order: 3, prune: [0, 1, 1] }));
    try {
      const m = run.metrics('lm');
      expect(Number(m['pruned.2'])).toBeGreaterThan(0);
      expect(Number(m['ngrams.3']) + Number(m['pruned.3'])).toBeGreaterThan(Number(m['ngrams.3']));
    } finally {
      run.close();
    }
    const bad = await runGraph(doc({ tokenizer: 'nope/tokenizer.json' }));
    try {
      expect(bad.outcome('lm')).toMatchObject({ state: 'failed', outputs: [], location: { nodeId: 'lm', file: 'nope/tokenizer.json', field: 'params.tokenizer' } });
      expect(bad.stagingLeft()).toEqual([]);
    } finally {
      bad.close();
    }
  });
});
