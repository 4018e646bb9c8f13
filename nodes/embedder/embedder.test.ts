import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeError } from '../../engine/sdk/node-error.js';
import { EMBEDDINGS_FILE, EMBEDDINGS_META, readEmbeddings } from '../_sdk/vectors/embeddings.js';
import { BagEncoder, TransformerEncoder } from '../_sdk/vectors/encoders.js';
import { Dictionary, tokenize } from '../_sdk/fasttext/dictionary.js';
import { hashString } from '../_sdk/fasttext/hash.js';
import { decodeModel } from '../_sdk/onnx/graph.js';
import { machineProbe } from '../_sdk/onnx/session.js';
import { Rng } from '../_sdk/rng.js';
import { bertReference, randomBertWeights, writeBertFolder } from '../_sdk/testing/bert.js';
import { cleanupTempDirs, makeDataset, readDataset, runNode, tempDir } from '../_sdk/testing/harness.js';
import { writeHandModel } from '../_sdk/testing/tiny-models.js';
import { TextTokenizer } from '../_sdk/text/tokenizer.js';
import { loadClassifier } from '../_sdk/models/classifier.js';
import { twoClassCorpus } from '../_sdk/testing/corpus.js';
import train from '../classifier-train/index.js';
import embedder, { BUILTIN_HASHED } from './index.js';

/** The real all-MiniLM-L6-v2 tokenizer, bundled with the repository (Apache-2.0, see its README). */
const MINILM = fileURLToPath(new URL('../../resources/models/all-MiniLM-L6-v2-tokenizer', import.meta.url));

afterAll(cleanupTempDirs);

const cpu = { provider: 'cpu' as const, pooling: 'mean' as const, batchSize: 2 };

function norm(v: ArrayLike<number>): number[] {
  const s = Math.sqrt(Array.from(v).reduce((a, x) => a + x * x, 0));
  return Array.from(v, (x) => x / s);
}

describe('pooling and normalisation on a hand-computable model', () => {
  const dir = writeHandModel(join(tempDir(), 'hand'));

  it('mean-pools over real tokens only, in input order, whatever the batch padding', async () => {
    const enc = await TransformerEncoder.open(dir, cpu);
    expect(enc.dim).toBe(3);
    expect(enc.maxLength).toBe(16);
    // "a b" → [CLS] a b [SEP] = ids 2 4 5 3; "d" → 2 7 3; "zebra" → [UNK] = 1; batches of 2 mix lengths.
    const { data } = await enc.encode(['a b', 'd', 'a b c d a b c d', 'zebra']);
    const rows = [0, 1, 2, 3].map((i) => Array.from(data.subarray(i * 3, i * 3 + 3)));
    expect(rows[0]).toEqual([3.5, 1, 0]);
    expect(rows[1]).toEqual([4, 1, 0]);
    expect(rows[2]![0]).toBeCloseTo((2 + 4 + 5 + 6 + 7 + 4 + 5 + 6 + 7 + 3) / 10, 6);
    expect(rows[3]).toEqual([2, 1, 0]);
    await enc.close();
  });

  it('CLS pooling takes the first token; truncation keeps [SEP]', async () => {
    const cls = await TransformerEncoder.open(dir, { ...cpu, pooling: 'cls' });
    expect(Array.from((await cls.encode(['d c'])).data)).toEqual([2, 1, 0]);
    await cls.close();
    const short = await TransformerEncoder.open(dir, { ...cpu, maxLength: 4 });
    const r = await short.encode(['a b c d', 'a']);
    expect(r.truncated).toBe(1);
    // [CLS] a b [SEP] → mean of 2, 4, 5, 3.
    expect(Array.from(r.data.subarray(0, 3))).toEqual([3.5, 1, 0]);
    await short.close();
  });

  it('the node L2-normalises and writes matrix, ids and metadata', async () => {
    const ds = await makeDataset([
      { id: 'x1', text: 'a b', source: 't' },
      { id: 'x2', text: 'd', source: 't' },
      { id: 'x3', text: 'c', source: 't' },
    ]);
    const run = await runNode(embedder, { inputs: { in: ds }, params: { model: dir, provider: 'cpu' } });
    const out = run.outputs.out!;
    const { meta, data } = readEmbeddings(out, 'out');
    expect(meta).toMatchObject({ dim: 3, count: 3, normalized: true, pooling: 'mean', dataset: ds.hash, device: 'cpu' });
    expect(meta.modelHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(readFileSync(join(out.dir, EMBEDDINGS_FILE)).length).toBe(3 * 3 * 4);
    const expected = [norm([3.5, 1, 0]), norm([4, 1, 0]), norm([(2 + 6 + 3) / 3, 1, 0])];
    expected.flat().forEach((v, i) => expect(data[i]).toBeCloseTo(v, 6));
    expect(JSON.parse(readFileSync(join(out.dir, EMBEDDINGS_META), 'utf8'))).toMatchObject({ format: 'forge.embeddings', dtype: 'float32', byteOrder: 'little' });
    const ids = await readDataset({ ...out, manifest: { ...out.manifest, files: [{ path: 'ids.parquet', hash: '', bytes: 0 }] } });
    expect(ids.map((r) => r.id)).toEqual(['x1', 'x2', 'x3']);
    expect(run.device).toBe('cpu');
  });
});

describe('tiny random BERT with the real MiniLM tokenizer', () => {
  const weights = randomBertWeights({ vocabSize: 30522, hidden: 16, layers: 2, heads: 2, intermediate: 32, maxPosition: 64, seed: 5 });
  const dir = join(tempDir(), 'bert');
  writeBertFolder(dir, weights, MINILM, { onnxSubfolder: true, modelMaxLength: 64 });

  it('tokenises like the reference tokenizer', () => {
    const tok = TextTokenizer.fromModelFolder(dir);
    expect(tok.vocabSize).toBe(30522);
    expect(Array.from(tok.encodeForModel('Hello World!', 64).ids)).toEqual([101, 7592, 2088, 999, 102]);
    const long = tok.encodeForModel('word '.repeat(500), 10);
    expect(long.truncated).toBe(true);
    expect(long.ids[0]).toBe(101);
    expect(long.ids[9]).toBe(102);
  });

  it('mean-pooled embeddings equal a plain TypeScript forward pass of the same weights', async () => {
    const enc = await TransformerEncoder.open(dir, { ...cpu, batchSize: 3 });
    expect(enc.dim).toBe(16);
    const texts = [
      'The quick brown fox jumps over the lazy dog.',
      'Load a pretrained ResNet-50 from Torch Hub.',
      'hi',
      'Once upon a time, in a kingdom far away, there lived a miller and his three sons.',
    ];
    const { data } = await enc.encode(texts);
    const tok = TextTokenizer.fromModelFolder(dir);
    texts.forEach((t, i) => {
      const hidden = bertReference(weights, Array.from(tok.encodeForModel(t, 64).ids));
      const mean = Array.from({ length: 16 }, (_, j) => hidden.reduce((s, h) => s + h[j]!, 0) / hidden.length);
      mean.forEach((v, j) => expect(Math.abs(v - data[i * 16 + j]!)).toBeLessThan(2e-5));
    });
    // One text alone gives the same vector as inside a padded batch.
    const alone = (await enc.encode([texts[2]!])).data;
    alone.forEach((v, j) => expect(Math.abs(v - data[2 * 16 + j]!)).toBeLessThan(1e-5));
    await enc.close();
  });

  it('refuses a model whose embedding table is smaller than the tokenizer vocabulary', async () => {
    const small = join(tempDir(), 'small');
    writeBertFolder(small, randomBertWeights({ vocabSize: 1000, hidden: 8, layers: 1, heads: 2, intermediate: 16, maxPosition: 32 }), MINILM);
    await expect(TransformerEncoder.open(small, cpu)).rejects.toThrow(/vocabulary \(30522 ids\) does not fit/);
  });
});

describe('the built-in hashed n-gram embedder', () => {
  const o = { dim: 24, buckets: 2048, minn: 3, maxn: 4, wordNgrams: 2, seed: 0, preprocess: 'lower-punct' as const };

  it('runs as an ONNX embedding bag equal to the mean of its hashed rows', async () => {
    const enc = await BagEncoder.hashed(o, { provider: 'cpu', batchSize: 8 });
    const texts = ['Load the pretrained model.', 'Once upon a time'];
    const { data } = await enc.encode(texts);
    const rng = new Rng(0);
    const table = Float32Array.from({ length: o.buckets * o.dim }, () => rng.normal());
    const dict = new Dictionary({ entries: [], counts: [], types: [], ntokens: 0, pruneIdx: null }, { minn: 3, maxn: 4, wordNgrams: 2, bucket: o.buckets, label: '__label__' });
    texts.forEach((t, i) => {
      const toks = tokenize(t, 'lower-punct');
      const rows = [...dict.featurize(toks), ...toks.map((w) => hashString(w) % o.buckets)];
      for (let j = 0; j < o.dim; j++) {
        const mean = rows.reduce((s, r) => s + table[r * o.dim + j]!, 0) / rows.length;
        expect(Math.abs(mean - data[i * o.dim + j]!)).toBeLessThan(1e-5);
      }
    });
    expect(enc.model).toBe('forge-hashed-ngram(dim=24,buckets=2048,n=3-4,words=2,seed=0)');
    await enc.close();
  });

  it('the node embeds with no model download: shared vocabulary means higher cosine', async () => {
    const ds = await makeDataset([
      { id: 1, text: 'torch.hub.load the pretrained resnet50 image classification model', source: 's' },
      { id: 2, text: 'load the pretrained resnet101 image classification model from torch hub', source: 's' },
      { id: 3, text: 'the princess wept by the well and a frog spoke to her', source: 's' },
    ]);
    const run = await runNode(embedder, { inputs: { in: ds }, params: { model: BUILTIN_HASHED, hashed: { dim: 64, buckets: 8192 } } });
    const { meta, data } = readEmbeddings(run.outputs.out!, 'out');
    expect(meta.dim).toBe(64);
    const dot = (a: number, b: number) => Array.from({ length: 64 }, (_, j) => data[a * 64 + j]! * data[b * 64 + j]!).reduce((s, x) => s + x, 0);
    expect(dot(0, 0)).toBeCloseTo(1, 5);
    expect(dot(0, 1)).toBeGreaterThan(0.5);
    expect(dot(0, 2)).toBeLessThan(0.3);
    // auto tries the GPU providers first and says why it fell back.
    expect(run.logs.some((l) => /execution provider: (cpu|cuda|webgpu)/.test(l.message))).toBe(true);
  });
});

describe('a trained classifier as the embedding model', () => {
  it('embeds with the classifier’s word and n-gram vectors (fastText sentence vectors)', async () => {
    const docs = twoClassCorpus(60, 0);
    const positives = await makeDataset(docs.filter((d) => d.label === 'api').map((d, i) => ({ id: `a${i}`, text: d.text, source: 'api' })));
    const negatives = await makeDataset(docs.filter((d) => d.label === 'prose').map((d, i) => ({ id: `p${i}`, text: d.text, source: 'prose' })));
    const model = (await runNode(train, { inputs: { positives, negatives }, params: { dim: 12, bucket: 3000, epoch: 3 } })).outputs.model!;
    const texts = ['load the pretrained resnet50 model', 'the frog and the princess'];
    const ds = await makeDataset(texts.map((text, i) => ({ id: i, text, source: 's' })));
    const run = await runNode(embedder, { inputs: { in: ds, model }, params: {} });
    const { meta, data } = readEmbeddings(run.outputs.out!, 'out');
    expect(meta).toMatchObject({ dim: 12, modelHash: model.hash, normalized: true });
    const { model: m } = loadClassifier(model);
    texts.forEach((t, i) => norm(m.hidden(m.features(t))).forEach((v, j) => expect(Math.abs(v - data[i * 12 + j]!)).toBeLessThan(1e-5)));
  });
});

describe('embedder errors', () => {
  const hand = writeHandModel(join(tempDir(), 'hand2'));

  async function failure(params: Record<string, unknown>, rows: Record<string, unknown>[] = [{ id: 1, text: 'a b', source: 's' }]): Promise<NodeError> {
    const ds = await makeDataset(rows);
    try {
      await runNode(embedder, { inputs: { in: ds }, params });
    } catch (err) {
      expect(err).toBeInstanceOf(NodeError);
      return err as NodeError;
    }
    throw new Error('expected the node to fail');
  }

  it('missing folder, missing model.onnx, corrupt model.onnx', async () => {
    expect((await failure({ model: join(tempDir(), 'nope') })).message).toMatch(/model folder not found/);
    const noModel = tempDir();
    writeFileSync(join(noModel, 'tokenizer.json'), '{}');
    expect((await failure({ model: noModel })).message).toMatch(/no model.onnx/);
    const corrupt = writeHandModel(join(tempDir(), 'corrupt'));
    writeFileSync(join(corrupt, 'model.onnx'), 'this is not protobuf');
    const err = await failure({ model: corrupt, provider: 'cpu' });
    expect(err.message).toMatch(/ONNX Runtime cannot load the model/);
    expect(err.location.file).toBe(join(corrupt, 'model.onnx'));
  });

  it('tokenizer vocabulary larger than the model table', async () => {
    const small = writeHandModel(join(tempDir(), 'small'), { rows: 5 });
    expect((await failure({ model: small, provider: 'cpu' })).message).toMatch(/vocabulary \(8 ids\) does not fit/);
  });

  it('empty texts, over-length texts (when asked to fail), NaN outputs', async () => {
    const empty = await failure({ model: hand }, [
      { id: 'ok', text: 'a', source: 's' },
      { id: 'blank', text: '   ', source: 's' },
      { id: 'null', text: null, source: 's' },
    ]);
    expect(empty.message).toMatch(/2 row\(s\) have an empty or NULL "text" \(ids blank, null\)/);
    expect((await failure({ model: hand, overLength: 'error' }, [{ id: 1, text: 'a b c d '.repeat(10), source: 's' }])).message).toMatch(/exceed the model's 16 tokens \(first at row 1\)/);
    const table = Float32Array.from({ length: 24 }, (_, i) => (i === 6 * 3 ? NaN : 1));
    const nan = writeHandModel(join(tempDir(), 'nan'), { table });
    expect(
      (
        await failure({ model: nan }, [
          { id: 1, text: 'a', source: 's' },
          { id: 2, text: 'c', source: 's' },
        ])
      ).message,
    ).toMatch(/NaN or infinite values \(first at row 2\)/);
  });

  it('an explicit GPU provider that cannot start is a clear error; auto falls back', async () => {
    const ds = await makeDataset([{ id: 1, text: 'a b', source: 's' }]);
    let gpuError: unknown;
    try {
      await runNode(embedder, { inputs: { in: ds }, params: { model: hand, provider: 'webgpu' } });
    } catch (err) {
      gpuError = err;
    }
    if (gpuError) expect(String((gpuError as Error).message)).toMatch(/execution provider "webgpu" is not available here: .+ Use provider "auto"/);
    // Still tried without a Vulkan loader (Dawn's stderr warning is expected here), and the error says what is missing.
    if (gpuError && process.platform === 'linux' && !machineProbe.vulkanLoader()) expect(String((gpuError as Error).message)).toContain('(no Vulkan loader libvulkan.so.1 on this machine)');
    const auto = await runNode(embedder, { inputs: { in: ds }, params: { model: hand, provider: 'auto' } });
    const line = auto.logs.find((l) => l.message.startsWith('execution provider:'))!;
    expect(line.message).toContain(auto.device!);
    if (auto.device === 'cpu') expect(line.message).toMatch(/fell back: cuda: .+; webgpu: .+/);
  });

  it('writes a plain ONNX model with the standard opset', () => {
    const m = decodeModel(readFileSync(join(hand, 'model.onnx')));
    expect(m).toMatchObject({ irVersion: 8, opset: 17, inputs: ['input_ids'], outputs: ['last_hidden_state'], ops: ['Gather'] });
    expect(m.initializers).toEqual([{ name: 'table', dims: [8, 3] }]);
  });
});
