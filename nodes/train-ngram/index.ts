import { copyFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { z } from 'zod';
import { NodeError, throwIfAborted } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { round, writeMetrics, type MetricValue } from '../_sdk/report.js';
import { MODEL_FORMAT, MODEL_VERSION, writeModel, type ModelHeader } from '../_sdk/models/ngram-model.js';
import { POS, positionedSql } from '../_sdk/dataset/rows.js';
import { loadTokenizer, tokenizerFiles, WORDS } from '../_sdk/text/tokenizer.js';
import { KnCounter, TooManyNgrams } from './kn.js';

const params = z.object({
  order: z.number().int().min(1).max(8).default(3).meta({ title: 'Order (n)' }),
  tokenizer: z.string().min(1).meta({ title: 'Tokenizer', description: 'tokenizer.json (or its folder); the model is over its token ids and carries a copy', widget: 'file' }),
  prune: z
    .array(z.number().int().min(0))
    .min(1)
    .default([0])
    .refine((p) => p[0] === 0, 'unigrams cannot be pruned: the first threshold must be 0')
    .meta({ title: 'Pruning thresholds', description: 'Per order, as KenLM --prune: n-grams of order ≥ 2 with adjusted count ≤ threshold are dropped; the last value repeats. [0] keeps all' }),
  discountFallback: z
    .tuple([z.number().gt(0), z.number().gt(0), z.number().gt(0)])
    .default([0.5, 1, 1.5])
    .meta({ title: 'Fallback discounts', description: 'D1, D2, D3+ for orders whose counts-of-counts give no valid discounts (tiny corpora)' }),
});

export default defineNode({
  type: 'train.ngram',
  version: 1,
  category: 'Training',
  title: 'N-gram LM (Kneser-Ney)',
  description:
    "Trains an n-gram language model with interpolated modified Kneser-Ney smoothing over a real tokenizer's token ids (order and pruning as params). Deterministic; outputs a forge-ngram-lm model (model.json + model.bin + tokenizer copy, documented in the node README) and training metrics.",
  inputs: { train: { kind: 'dataset', title: 'training text' } },
  outputs: { model: { kind: 'model', title: 'n-gram LM' }, metrics: { kind: 'metrics', title: 'training stats' } },
  params,
  deterministic: true,
  worker: true,
  inputFiles: (p, baseDir) => tokenizerFiles(p.tokenizer, baseDir),
  async run(ctx) {
    const p = ctx.params;
    if (p.tokenizer === WORDS) throw new NodeError(`${WORDS} has no token ids; choose a tokenizer.json`, { field: 'params.tokenizer' });
    const tok = loadTokenizer(p.tokenizer, ctx.baseDir);
    const ref = ctx.input('train');
    const counter = new KnCounter({ order: p.order, vocabSize: tok.vocabSize, prune: p.prune, discountFallback: p.discountFallback });
    const conn = await ctx.duckdb();
    const total = ref.manifest.rows;
    const t0 = performance.now();
    let tokenizeMs = 0;
    try {
      const result = await conn.stream(`SELECT text FROM ${await positionedSql(conn, ref)} ORDER BY ${POS}`);
      for await (const rows of result.yieldRowsJs()) {
        throwIfAborted(ctx.signal);
        for (const r of rows) {
          if (r[0] === null || r[0] === undefined) continue;
          const ts = performance.now();
          const ids = tok.encode(String(r[0]));
          tokenizeMs += performance.now() - ts;
          counter.add(ids);
        }
        ctx.progress(counter.documents, total, `${counter.tokens} tokens counted`);
      }
    } catch (err) {
      if (err instanceof TooManyNgrams) throw new NodeError(`${err.message}: raise the pruning thresholds or lower the order`, { field: 'params.order' });
      throw err;
    }
    if (counter.documents === 0) throw new NodeError('the training dataset has no text', { field: 'inputs.train' });
    const countMs = performance.now() - t0;
    const built = counter.build();
    const buildMs = performance.now() - t0 - countMs;
    throwIfAborted(ctx.signal);
    const out = ctx.output('model');
    const [tokJson, tokConfig] = tok.files as [string, string | undefined];
    copyFileSync(tokJson, out.file('tokenizer.json'));
    if (tokConfig) copyFileSync(tokConfig, out.file('tokenizer_config.json'));
    const header: ModelHeader = {
      format: MODEL_FORMAT,
      version: MODEL_VERSION,
      smoothing: 'interpolated-modified-kneser-ney',
      order: p.order,
      vocabSize: tok.vocabSize,
      bos: tok.vocabSize,
      eos: tok.vocabSize + 1,
      uniformSize: tok.vocabSize + 1,
      discounts: built.discounts.map((d) => d.map((x) => round(x, 9))),
      discountFallbackOrders: built.fallbackOrders,
      prune: p.prune,
      ngrams: built.ngrams,
      pruned: built.pruned,
      contexts: built.contexts,
      training: { documents: built.documents, tokens: built.tokens, predictedTokens: built.predictedTokens },
      tokenizer: { file: 'tokenizer.json', sha256: tok.sha256, name: basename(p.tokenizer) },
      files: { 'model.bin': 'tables, see nodes/_sdk/models/ngram-model.ts', 'tokenizer.json': 'copy of the tokenizer' },
    };
    const tw = performance.now();
    writeModel(out.dir, header, built.tables, built.codec);
    const writeMs = performance.now() - tw;
    const bytes = statSync(out.file('model.bin')).size;
    out.setMeta('format', `${MODEL_FORMAT}@${MODEL_VERSION}`);
    out.setMeta('order', p.order);
    out.setMeta('vocab_size', tok.vocabSize);
    out.setMeta(
      'ngrams',
      built.ngrams.reduce((a, b) => a + b, 0),
    );
    out.setMeta('training_tokens', built.tokens);
    out.setMeta('tokenizer_sha256', tok.sha256);
    const m: Record<string, MetricValue> = {
      documents: built.documents,
      tokens: built.tokens,
      predicted_tokens: built.predictedTokens,
      order: p.order,
      model_bytes: bytes,
    };
    built.ngrams.forEach((n, i) => {
      m[`ngrams.${i + 1}`] = n;
      m[`pruned.${i + 1}`] = built.pruned[i] as number;
      const d = built.discounts[i] as number[];
      m[`discount.${i + 1}.d1`] = round(d[0] as number, 6);
      m[`discount.${i + 1}.d2`] = round(d[1] as number, 6);
      m[`discount.${i + 1}.d3`] = round(d[2] as number, 6);
    });
    m.discount_fallback_orders = built.fallbackOrders.join(',');
    writeMetrics(ctx.output('metrics'), m);
    const secs = (performance.now() - t0) / 1000;
    if (built.fallbackOrders.length > 0) ctx.log(`orders ${built.fallbackOrders.join(', ')}: counts-of-counts give no valid discounts, used the fallback ${p.discountFallback.join('/')}`, 'warn');
    ctx.log(
      `${built.documents} documents, ${built.tokens} tokens → ${built.ngrams.map((n, i) => `${n} ${i + 1}-grams`).join(', ')}${built.pruned.some((x) => x > 0) ? ` (pruned ${built.pruned.join('/')})` : ''}; ${(built.tokens / secs).toFixed(0)} tokens/s (tokenize ${(tokenizeMs / 1000).toFixed(2)} s, read + count ${((countMs - tokenizeMs) / 1000).toFixed(2)} s, build ${(buildMs / 1000).toFixed(2)} s, write ${(writeMs / 1000).toFixed(2)} s)`,
    );
  },
  module: import.meta.url,
});
