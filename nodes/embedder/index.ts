import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { NodeError } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { sqlIdent } from '../../engine/sdk/sql.js';
import { POS, positionedSql, readStringColumnChunks, requireColumn } from '../_sdk/dataset/rows.js';
import { EmbeddingsWriter, vectorChunkRows } from '../_sdk/vectors/embeddings.js';
import { BagEncoder, DEFAULT_HASHED, firstNonFinite, l2normalize, modelFolderFiles, TransformerEncoder, type TextEncoderModel } from '../_sdk/vectors/encoders.js';
import { PREPROCESS } from '../_sdk/fasttext/dictionary.js';
import { MODEL_MANIFEST, readClassifierArtifact } from '../_sdk/models/model-artifact.js';
import { LEARNED_FORMAT, LearnedEncoder } from '../_sdk/vectors/learned-onnx.js';
import { PROVIDER_CHOICES } from '../_sdk/onnx/session.js';

export const BUILTIN_HASHED = 'builtin:hashed-ngram';

function isLearnedEmbedder(dir: string): boolean {
  const mf = join(dir, MODEL_MANIFEST);
  if (!existsSync(mf)) return false;
  // The format tag is the manifest's first key: read its head rather than the whole vocabulary.
  const head = Buffer.alloc(256);
  const fd = openSync(mf, 'r');
  try {
    const n = readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, n).toString('utf8').includes(`"format":"${LEARNED_FORMAT}"`);
  } finally {
    closeSync(fd);
  }
}

const params = z.object({
  model: z
    .string()
    .min(1)
    .default(BUILTIN_HASHED)
    .meta({
      title: 'Model',
      description: `A local sentence-transformer folder (model.onnx or onnx/model.onnx, tokenizer.json, config.json), or ${BUILTIN_HASHED} for the built-in offline hashed n-gram embedder. A learned embedder or classifier connected to the "model" input overrides this.`,
      widget: 'folder',
    }),
  textColumn: z.string().min(1).default('text').meta({ title: 'Text column' }),
  provider: z.enum(PROVIDER_CHOICES).default('auto').meta({
    title: 'Execution provider',
    description: 'auto tries CUDA, then WebGPU (on Linux only with a Vulkan loader), then the CPU, and logs why a GPU was skipped; an explicit GPU is always tried and fails if unavailable',
  }),
  threads: z.number().int().min(0).max(256).default(0).meta({ title: 'Intra-op threads', description: '0 = one per core (ONNX Runtime default)' }),
  batchSize: z
    .number()
    .int()
    .min(1)
    .max(4096)
    .default(32)
    .meta({ title: 'Batch size', description: 'Texts per model call at full length; texts are length-sorted and shorter ones packed more per call under the same padded-token budget' }),
  maxLength: z
    .number()
    .int()
    .min(2)
    .max(65536)
    .optional()
    .meta({ title: 'Max tokens', description: 'Truncation length; default from the model folder (sentence_bert_config.json, tokenizer_config.json, config.json)' }),
  pooling: z.enum(['auto', 'mean', 'cls']).default('auto').meta({ title: 'Pooling', description: 'auto reads 1_Pooling/config.json; else mean pooling with the attention mask' }),
  normalize: z.boolean().default(true).meta({ title: 'L2-normalise', description: 'Unit-length vectors, so a dot product is the cosine similarity' }),
  overLength: z.enum(['truncate', 'error']).default('truncate').meta({ title: 'Texts over max length', description: 'truncate (logged with a count) or fail' }),
  emptyText: z.enum(['error', 'embed']).default('error').meta({ title: 'Empty texts', description: 'fail on empty / NULL texts, or embed them as they are' }),
  hashed: z
    .object({
      dim: z.number().int().min(2).max(4096).default(DEFAULT_HASHED.dim),
      buckets: z.number().int().min(16).max(16_777_216).default(DEFAULT_HASHED.buckets),
      minn: z.number().int().min(0).max(20).default(DEFAULT_HASHED.minn),
      maxn: z.number().int().min(0).max(20).default(DEFAULT_HASHED.maxn),
      wordNgrams: z.number().int().min(1).max(5).default(DEFAULT_HASHED.wordNgrams),
      seed: z.number().int().default(DEFAULT_HASHED.seed),
      preprocess: z.enum(PREPROCESS).default(DEFAULT_HASHED.preprocess),
    })
    .prefault({})
    .meta({ title: 'Hashed n-gram model', description: `Settings of ${BUILTIN_HASHED} (ignored for other models)` }),
});

export default defineNode({
  type: 'ml.embed',
  version: 1,
  category: 'ML',
  title: 'Embedder',
  description:
    'Embeds the text column with an ONNX sentence-transformer (mean/CLS pooling, L2 normalisation) on CPU, WebGPU or CUDA, or with the built-in offline hashed n-gram model, or with the word vectors of a connected classifier. Writes a float32 matrix aligned with the rows.',
  inputs: {
    in: { kind: 'dataset' },
    model: {
      kind: 'model',
      optional: true,
      title: 'learned embedder or classifier (optional)',
      description: 'An embedder from "Embedder: train", or a fastText-style classifier whose vectors become the embedding',
    },
  },
  outputs: { out: { kind: 'embeddings' } },
  params,
  // Float results depend on the CPU's SIMD width and the provider, so hashes may differ across machines.
  deterministic: false,
  worker: true,
  inputFiles(p, baseDir) {
    if (p.model === BUILTIN_HASHED) return [];
    return modelFolderFiles(resolve(baseDir, p.model));
  },
  async run(ctx) {
    const p = ctx.params;
    const src = ctx.input('in');
    const classifier = ctx.optionalInput('model');
    requireColumn(src, p.textColumn, 'in', 'params.textColumn');
    const conn = await ctx.duckdb();
    const log = (m: string, level?: 'info' | 'warn') => ctx.log(m, level);
    const session = { provider: p.provider, threads: p.threads || undefined, log, batchSize: p.batchSize };
    let transformer: TransformerEncoder | undefined;
    // Opened at the first chunk that needs it, so a column that is empty from the start fails
    // before any model is loaded.
    const open = async (): Promise<TextEncoderModel> => {
      if (classifier && isLearnedEmbedder(classifier.dir)) return LearnedEncoder.open(classifier, session);
      if (classifier) {
        const { manifest, onnx } = readClassifierArtifact(classifier);
        return BagEncoder.fromClassifier(onnx, manifest, classifier.hash, session);
      }
      if (p.model === BUILTIN_HASHED) return BagEncoder.hashed(p.hashed, session);
      transformer = await TransformerEncoder.open(ctx.resolvePath(p.model), { ...session, maxLength: p.maxLength, pooling: p.pooling });
      return transformer;
    };
    let enc: TextEncoderModel | undefined;
    const total = src.manifest.rows ?? 0;
    const writer = new EmbeddingsWriter(ctx.output('out'));
    // The texts stream through in chunks and the vectors go to the file as they come, so the node
    // holds one chunk whatever the pool's size. Rows are independent of each other and the chunk
    // size is a multiple of the bag encoder's feature chunk, so the bytes equal a one-pass embed.
    let rows = 0;
    let truncated = 0;
    const empty: number[] = [];
    let emptyCount = 0;
    let overLength = 0;
    let firstOverLength = -1;
    let seconds = 0;
    try {
      for await (const chunk of readStringColumnChunks(conn, src, p.textColumn, vectorChunkRows())) {
        const start = rows;
        rows += chunk.length;
        chunk.forEach((t, i) => {
          if (t !== null && t.trim() !== '') return;
          emptyCount++;
          if (empty.length < 5) empty.push(start + i);
        });
        // Once the run is bound to fail, later chunks are only counted, for the error message.
        if (emptyCount > 0 && p.emptyText === 'error') continue;
        enc ??= await open();
        ctx.setDevice(enc.device);
        const inputs = chunk.map((t) => t ?? '');
        const hooks = { progress: (d: number) => ctx.progress(start + d, total, 'embedding'), signal: ctx.signal };
        let encode: () => Promise<{ data: Float32Array; truncated: number }>;
        if (transformer) {
          const tr = transformer;
          // Tokenise first: an over-length text is then reported before this chunk's model time.
          const tok = tr.tokenizeAll(inputs);
          if (tok.truncated > 0 && p.overLength === 'error') {
            if (firstOverLength < 0) firstOverLength = start + tok.firstTruncated;
            overLength += tok.truncated;
          }
          if (overLength > 0 && p.overLength === 'error') continue;
          encode = async () => ({ data: await tr.encodeIds(tok.ids, hooks), truncated: tok.truncated });
        } else {
          const e = enc;
          encode = () => e.encode(inputs, hooks);
        }
        const t0 = performance.now();
        const out = await encode();
        seconds += (performance.now() - t0) / 1000;
        truncated += out.truncated;
        const bad = firstNonFinite(out.data, enc.dim);
        if (bad >= 0) throw new NodeError(`the model produced NaN or infinite values (first at row ${start + bad + 1}); the model file may be corrupt or incompatible`, { field: 'params.model' });
        if (p.normalize) l2normalize(out.data, enc.dim);
        writer.append(out.data);
      }
      if (emptyCount > 0 && p.emptyText === 'error') {
        const ids = await conn.runAndReadAll(`SELECT CAST(id AS VARCHAR) AS id FROM ${await positionedSql(conn, src)} WHERE ${POS} IN (${empty.join(', ')}) ORDER BY ${POS}`);
        const list = ids.getRowObjectsJS().map((r) => String(r.id));
        throw new NodeError(
          `${emptyCount} row(s) have an empty or NULL ${sqlIdent(p.textColumn)} (ids ${list.join(', ')}${emptyCount > 5 ? ', …' : ''}); filter them out first or set emptyText to "embed"`,
          { field: 'params.emptyText' },
        );
      }
      if (overLength > 0 && transformer) {
        throw new NodeError(`${overLength} text(s) exceed the model's ${transformer.maxLength} tokens (first at row ${firstOverLength + 1}); shorten or chunk them, or set overLength to "truncate"`, {
          field: 'params.overLength',
        });
      }
      enc ??= await open();
      ctx.setDevice(enc.device);
      if (truncated > 0) ctx.log(`${truncated} of ${rows} text(s) were truncated to the model's maximum length`, 'warn');
      ctx.log(`embedded ${rows} texts → ${enc.dim} dims with ${enc.model} on ${enc.device} in ${seconds.toFixed(2)} s (${(rows / Math.max(seconds, 1e-9)).toFixed(1)} docs/s)`);
      await writer.finish(conn, src, {
        dim: enc.dim,
        count: rows,
        model: enc.model,
        modelHash: enc.modelHash,
        normalized: p.normalize,
        pooling: enc.pooling,
        dataset: src.hash,
        device: enc.device,
        truncated,
      });
    } finally {
      writer.close();
      await enc?.close();
    }
  },
  module: import.meta.url,
});
