import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { datasetSql, readRows } from '../../engine/sdk/dataset.js';
import { duckdbInstance } from '../../engine/store/duckdb.js';
import { NgramModel } from '../_sdk/models/ngram-model.js';
import { cleanupTempDirs, closeExecutor, DATASETS, graph, runGraph, TOKENIZER } from '../_sdk/testing/graph.js';
import { loadTokenizer } from '../_sdk/text/tokenizer.js';

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
});
