import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { datasetSql, readRows } from '../../engine/sdk/dataset.js';
import { duckdbInstance } from '../../engine/store/duckdb.js';
import { NgramModel } from '../_sdk/models/ngram-model.js';
import { cleanupTempDirs, closeExecutor, DATASETS, graph, runGraph, TOKENIZER } from '../_sdk/testing/graph.js';
import { loadTokenizer } from '../_sdk/text/tokenizer.js';
import { metricSlug, orderCheckpoints } from './index.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

describe('eval.lm-loss node', () => {
  it('scores several benchmarks on the fan-in port: per-benchmark NLL matches a direct computation', async () => {
    const run = await runGraph(
      graph(
        [
          { id: 'train_prose', type: 'source.text-folder', params: { pattern: join(DATASETS, 'prose/grimms-fairy-tales.txt'), unit: 'paragraph', minChars: 40 } },
          { id: 'lm', type: 'train.ngram', params: { tokenizer: TOKENIZER, order: 3 } },
          { id: 'held_prose', type: 'source.text-folder', params: { pattern: join(DATASETS, 'prose/japanese-fairy-tales.txt'), unit: 'paragraph', minChars: 40 } },
          { id: 'held_bfcl', type: 'source.bfcl', params: { path: join(DATASETS, 'agent/bfcl/BFCL_v4_simple_javascript.json') } },
          { id: 'eval', type: 'eval.lm-loss', params: { maxDocuments: 60, names: { held_prose: 'prose', held_bfcl: 'bfcl' } } },
          { id: 'by_source', type: 'eval.lm-loss', params: { groupBy: 'source', maxDocuments: 60 } },
        ],
        [
          ['train_prose.out', 'lm.train'],
          ['lm.model', 'eval.model'],
          ['held_prose.out', 'eval.benchmarks'],
          ['held_bfcl.out', 'eval.benchmarks'],
          ['lm.model', 'by_source.model'],
          ['held_bfcl.out', 'by_source.benchmarks'],
        ],
      ),
    );
    try {
      expect(run.outcome('eval').error).toBeUndefined();
      const m = run.metrics('eval');
      expect(m['prose.documents']).toBe(60);
      expect(m['bfcl.documents']).toBe(50);
      // A model trained on fairy tales finds function-calling text much harder than more fairy tales.
      expect(Number(m['prose.nll'])).toBeLessThan(Number(m['bfcl.nll']));
      expect(Number(m['prose.ppl'])).toBeCloseTo(Math.exp(Number(m['prose.nll'])), 1);

      // Cross-check against the model file read directly.
      const model = NgramModel.load(run.artifact('lm', 'model').dir);
      const tok = loadTokenizer(TOKENIZER, '/');
      const conn = await (await duckdbInstance({ tempDirectory: join(run.dir, '.forge/tmp/x') })).connect();
      const rows = await readRows(conn, `SELECT text FROM ${datasetSql(run.artifact('held_prose', 'out'))} LIMIT 60`);
      conn.closeSync();
      let nll = 0;
      let n = 0;
      for (const r of rows) {
        const s = model.scoreDocument(tok.encode(String(r.text)));
        nll += s.nll;
        n += s.predictions;
      }
      expect(m['prose.tokens']).toBe(n);
      expect(Number(m['prose.nll'])).toBeCloseTo(nll / n, 5);
      // groupBy source: the BFCL rows all have source "bfcl" → the same benchmark, scored the same.
      const bySource = run.metrics('by_source');
      expect(bySource['bfcl.nll']).toBe(m['bfcl.nll']);
      expect(bySource['bfcl.documents']).toBe(50);
      const chart = run.json('eval', 'chart', 'chart.json') as { data: { values: { benchmark: string }[] } };
      expect(chart.data.values.map((v) => v.benchmark)).toEqual(['prose', 'bfcl']);
    } finally {
      run.close();
    }
  });

  it('scores earlier checkpoints on the same benchmarks: each as if evaluated alone, charted per checkpoint', async () => {
    const prose = join(DATASETS, 'prose/grimms-fairy-tales.txt');
    const run = await runGraph(
      graph(
        [
          { id: 'train_prose', type: 'source.text-folder', params: { pattern: prose, unit: 'paragraph', minChars: 40 } },
          { id: 'unigram', type: 'train.ngram', params: { tokenizer: TOKENIZER, order: 1 } },
          { id: 'trigram', type: 'train.ngram', params: { tokenizer: TOKENIZER, order: 3 } },
          { id: 'held_prose', type: 'source.text-folder', params: { pattern: join(DATASETS, 'prose/japanese-fairy-tales.txt'), unit: 'paragraph', minChars: 40 } },
          { id: 'held_bfcl', type: 'source.bfcl', params: { path: join(DATASETS, 'agent/bfcl/BFCL_v4_simple_javascript.json') } },
          { id: 'both', type: 'eval.lm-loss', params: { maxDocuments: 30, names: { held_prose: 'prose', held_bfcl: 'bfcl' } } },
          { id: 'alone', type: 'eval.lm-loss', params: { maxDocuments: 30, names: { held_prose: 'prose', held_bfcl: 'bfcl' } } },
        ],
        [
          ['train_prose.out', 'unigram.train'],
          ['train_prose.out', 'trigram.train'],
          ['trigram.model', 'both.model'],
          ['unigram.model', 'both.checkpoints'],
          ['held_prose.out', 'both.benchmarks'],
          ['held_bfcl.out', 'both.benchmarks'],
          ['unigram.model', 'alone.model'],
          ['held_prose.out', 'alone.benchmarks'],
          ['held_bfcl.out', 'alone.benchmarks'],
        ],
      ),
    );
    try {
      expect(run.outcome('both').error).toBeUndefined();
      const both = run.metrics('both');
      const alone = run.metrics('alone');
      // The checkpoint's numbers are what scoring it alone gives; the main model keeps its plain keys.
      expect(both['unigram.prose.nll']).toBe(alone['prose.nll']);
      expect(both['unigram.bfcl.nll']).toBe(alone['bfcl.nll']);
      expect(both['model.prose.nll']).toBe(both['prose.nll']);
      expect(both['model.bfcl.nll']).toBe(both['bfcl.nll']);
      expect(both['unigram.mean.nll']).toBe(alone['mean.nll']);
      // A trigram model predicts prose better than a unigram one: the two really were scored apart.
      expect(Number(both['prose.nll'])).toBeLessThan(Number(both['unigram.prose.nll']));
      expect(both.checkpoints).toBe('unigram > model');
      const chart = run.json('both', 'chart', 'chart.json') as { encoding: { x: { sort: string[] } }; data: { values: { checkpoint: string; benchmark: string; nll: number }[] } };
      expect(chart.encoding.x.sort).toEqual(['unigram', 'model']);
      expect(chart.data.values.map((v) => `${v.checkpoint}/${v.benchmark}`)).toEqual(['unigram/prose', 'unigram/bfcl', 'model/prose', 'model/bfcl']);
      expect(chart.data.values.find((v) => v.checkpoint === 'unigram' && v.benchmark === 'prose')?.nll).toBeCloseTo(Number(alone['prose.nll']), 4);
    } finally {
      run.close();
    }
  });

  it('orders checkpoints by the stages they went through and names them by their last stage', () => {
    const e = (stages: string[], fromNode?: string, main = false) => ({ stages, fromNode, main });
    // Edge order Stage II, Stage I; the main model went through all three.
    const ordered = orderCheckpoints([e(['Stage I', 'Stage II'], 'stage2'), e(['Stage I'], 'stage1'), e(['Stage I', 'Stage II', 'Stage III'], undefined, true)]);
    expect(ordered.map((c) => c.label)).toEqual(['Stage I', 'Stage II', 'Stage III']);
    // Two checkpoints ending in a stage of the same name stay apart.
    expect(orderCheckpoints([e(['proxy'], 'a'), e(['proxy'], 'b')]).map((c) => c.label)).toEqual(['proxy', 'proxy (b)']);
    expect(metricSlug('Stage III')).toBe('Stage_III');
    expect(metricSlug('  ')).toBe('checkpoint');
  });
});
