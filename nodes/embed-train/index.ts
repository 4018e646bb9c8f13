import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { NodeError } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { readStringColumn, requireColumn } from '../_sdk/dataset/rows.js';
import { MODEL_MANIFEST, MODEL_ONNX } from '../_sdk/models/model-artifact.js';
import { DEFAULT_LEARNED, trainLearned, type LearnedOptions } from '../_sdk/vectors/learned.js';
import { LEARNED_FORMAT, learnedManifest, learnedToOnnx } from '../_sdk/vectors/learned-onnx.js';

const D = DEFAULT_LEARNED;

const params = z
  .object({
    textColumn: z.string().min(1).default('text').meta({ title: 'Text column', description: 'Read from both inputs' }),
    lexicalDim: z.number().int().min(1).max(8192).default(D.lexicalDim).meta({ title: 'Lexical dims', description: 'Dims of the TF-IDF part (exact dims + random-indexing dims)' }),
    exactDims: z
      .number()
      .int()
      .min(0)
      .max(8192)
      .default(D.exactDims)
      .meta({ title: 'Exact dims', description: 'Lexical dims given one-to-one to the tokens with the most TF-IDF mass; the rest share the other dims by random indexing' }),
    semanticDim: z.number().int().min(0).max(1024).default(D.semanticDim).meta({ title: 'Semantic dims', description: 'Skipgram vector dims (0 = TF-IDF part only)' }),
    mix: z.number().min(0).max(1).default(D.mix).meta({ title: 'Semantic share', description: 'Weight of the semantic cosine in the dot product: (1 − mix) · lexical + mix · semantic' }),
    minCount: z.number().int().min(1).default(D.minCount).meta({ title: 'Min documents', description: 'Texts a token must occur in to get its own row' }),
    oovBuckets: z.number().int().min(1).max(1_000_000).default(D.oovBuckets).meta({ title: 'Rare-token buckets', description: 'Hashed rows shared by rarer and unseen tokens' }),
    epochs: z.number().int().min(1).max(100).default(D.epochs).meta({ title: 'Skipgram epochs' }),
    window: z.number().int().min(1).max(20).default(D.window).meta({ title: 'Context window' }),
    negatives: z.number().int().min(1).max(50).default(D.negatives).meta({ title: 'Negative samples' }),
    lr: z.number().gt(0).max(1).default(D.lr).meta({ title: 'Learning rate', description: 'Decays linearly to 0 over training' }),
    subsample: z.number().min(0).max(1).default(D.subsample).meta({ title: 'Subsampling threshold', description: 'Frequent tokens are skipped with word2vec’s rule (0 = off)' }),
    minn: z.number().int().min(0).max(20).default(D.minn).meta({ title: 'Min char n-gram' }),
    maxn: z.number().int().min(0).max(20).default(D.maxn).meta({ title: 'Max char n-gram', description: '0 = whole words only' }),
    subwordBuckets: z.number().int().min(1).max(10_000_000).default(D.subwordBuckets).meta({ title: 'Subword buckets' }),
    maxTrainTokens: z
      .number()
      .int()
      .min(1000)
      .default(D.maxTrainTokens)
      .meta({ title: 'Skipgram token budget', description: 'Tokens per epoch the skipgram sees at most (an even sample of the texts); bounds training time on large pools' }),
    sifA: z.number().gt(0).max(1).default(D.sifA).meta({ title: 'SIF a', description: 'Word weight a / (a + p(word))' }),
    removePc: z.boolean().default(D.removePc).meta({ title: 'Remove first principal component', description: 'Of the semantic document vectors (SIF)' }),
  })
  .refine((p) => p.exactDims <= p.lexicalDim, { message: 'exactDims cannot exceed lexicalDim', path: ['exactDims'] })
  .refine((p) => p.maxn === 0 || (p.minn >= 1 && p.minn <= p.maxn), { message: 'need 1 ≤ minn ≤ maxn (or maxn 0)', path: ['minn'] });

export default defineNode({
  type: 'ml.embed-train',
  version: 1,
  category: 'ML',
  title: 'Embedder: train',
  description:
    'Learns a text embedder from the data itself, with no downloaded weights: a TF-IDF part (exact dims for the heaviest terms, random indexing for the rest) and fastText-style skipgram vectors with subword n-grams combined SIF-style, first principal component removed. Writes one ONNX model that the Embedder node runs on CPU or GPU.',
  inputs: {
    in: { kind: 'dataset', title: 'texts', description: 'Texts to learn from, e.g. the seeds' },
    extra: { kind: 'dataset', optional: true, title: 'more texts', description: 'e.g. the pool to be searched: its vocabulary and statistics count too' },
  },
  outputs: { model: { kind: 'model' } },
  params,
  // Single-threaded seeded SGD: the same texts and seed give the same model.
  deterministic: true,
  worker: true,
  async run(ctx) {
    const p = ctx.params;
    const conn = await ctx.duckdb();
    const texts: string[] = [];
    const refs = [['in', ctx.input('in')] as const, ...(ctx.optionalInput('extra') ? [['extra', ctx.optionalInput('extra')!] as const] : [])];
    for (const [port, ref] of refs) {
      requireColumn(ref, p.textColumn, port, 'params.textColumn');
      for (const t of await readStringColumn(conn, ref, p.textColumn)) if (t !== null && t.trim() !== '') texts.push(t);
    }
    if (texts.length === 0) throw new NodeError(`no non-empty "${p.textColumn}" texts to learn from`, { field: 'inputs.in' });
    const { textColumn: _, ...rest } = p;
    const options: LearnedOptions = { ...rest, seed: ctx.seed };
    ctx.setDevice('cpu');
    const t0 = performance.now();
    let model;
    try {
      model = trainLearned(texts, options, { log: (m) => ctx.log(m), progress: (d, t) => ctx.progress(d, t, 'skipgram'), signal: ctx.signal });
    } catch (err) {
      if (err instanceof NodeError) throw err;
      throw new NodeError((err as Error).message, { field: 'inputs.in' });
    }
    const { bytes, padId } = learnedToOnnx(model);
    const out = ctx.output('model');
    writeFileSync(out.file(MODEL_ONNX), bytes);
    writeFileSync(out.file(MODEL_MANIFEST), `${JSON.stringify(learnedManifest(model, padId, options, { texts: texts.length }))}\n`);
    out.setMeta('format', LEARNED_FORMAT);
    out.setMeta('dim', model.lexicalDim + model.semanticDim);
    out.setMeta('vocabulary', model.vocab.length);
    out.setMeta('texts', texts.length);
    out.setMeta('mix', model.mix);
    ctx.log(`learned a ${model.lexicalDim}+${model.semanticDim}-dim embedder from ${texts.length} texts in ${((performance.now() - t0) / 1000).toFixed(1)} s (${(bytes.length / 1e6).toFixed(1)} MB)`);
  },
  module: import.meta.url,
});
