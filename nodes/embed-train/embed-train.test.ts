import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeError } from '../../engine/sdk/node-error.js';
import { decodeModel } from '../_sdk/onnx/graph.js';
import { twoClassCorpus } from '../_sdk/testing/corpus.js';
import { cleanupTempDirs, makeDataset, runNode } from '../_sdk/testing/harness.js';
import { readEmbeddings } from '../_sdk/vectors/embeddings.js';
import { embedFeatures, Featurizer } from '../_sdk/vectors/learned.js';
import { learnedFromOnnx, type LearnedManifest } from '../_sdk/vectors/learned-onnx.js';
import embedder from '../embedder/index.js';
import embedTrain from './index.js';

afterAll(cleanupTempDirs);

// Small enough for a busy CI box: a few hundred short texts, tiny tables.
const small = { lexicalDim: 48, exactDims: 32, semanticDim: 8, mix: 0.4, oovBuckets: 16, epochs: 3, subwordBuckets: 2000, minCount: 2, subsample: 0 };

async function corpus(n: number, offset = 0) {
  return makeDataset(twoClassCorpus(n, offset).map((d, i) => ({ id: `d${offset + i}`, text: d.text, source: d.label })));
}

function dot(data: Float32Array, dim: number, a: number, b: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += data[a * dim + j]! * data[b * dim + j]!;
  return s;
}

async function failure(p: Promise<unknown>): Promise<NodeError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(NodeError);
    return err as NodeError;
  }
  throw new Error('expected the node to fail');
}

describe('embedder training node', () => {
  it('learns an ONNX embedder that ml.embed runs, deterministically per seed', async () => {
    const seeds = await corpus(40);
    const pool = await corpus(160, 1000);
    const run = await runNode(embedTrain, { inputs: { in: seeds, extra: pool }, params: small, seed: 5 });
    const model = run.outputs.model!;
    expect(model.manifest.files.map((f) => f.path).sort()).toEqual(['model.json', 'model.onnx']);
    expect(model.manifest.meta).toMatchObject({ format: 'forge.learned-embedder', dim: 56, texts: 200, mix: 0.4 });
    const onnx = decodeModel(readFileSync(join(model.dir, 'model.onnx')));
    expect(onnx.inputs).toEqual(['ids', 'counts']);
    expect(onnx.outputs).toEqual(['embedding']);
    expect(onnx.ops).toEqual(expect.arrayContaining(['Gather', 'MatMul', 'ReduceL2', 'Concat']));

    const texts = [
      'call the pretrained resnet50 model for image classification with torch.hub.load',
      'invoke the pretrained yolov5s model for object detection',
      'the princess wept by the well and a frog put its head out of the water',
    ];
    const ds = await makeDataset(texts.map((text, i) => ({ id: i, text, source: 's' })));
    const out = await runNode(embedder, { inputs: { in: ds, model }, params: { provider: 'cpu' } });
    const { meta, data } = readEmbeddings(out.outputs.out!, 'out');
    expect(meta).toMatchObject({ dim: 56, count: 3, modelHash: model.hash, normalized: true, pooling: 'sif' });
    // Two API descriptions are closer to each other than to fairy-tale prose.
    expect(dot(data, 56, 0, 1)).toBeGreaterThan(dot(data, 56, 0, 2) + 0.2);

    const again = await runNode(embedTrain, { inputs: { in: seeds, extra: pool }, params: small, seed: 5 });
    expect(readFileSync(join(again.outputs.model!.dir, 'model.onnx'))).toEqual(readFileSync(join(model.dir, 'model.onnx')));
    const other = await runNode(embedTrain, { inputs: { in: seeds, extra: pool }, params: small, seed: 6 });
    expect(readFileSync(join(other.outputs.model!.dir, 'model.onnx'))).not.toEqual(readFileSync(join(model.dir, 'model.onnx')));
  });

  it('the ONNX output matches the TypeScript reference within 1e-5 (repeats, unseen and rare tokens, lexical only)', async () => {
    const seeds = await corpus(30);
    for (const params of [small, { ...small, semanticDim: 0 }, { ...small, exactDims: 0, removePc: false }]) {
      const model = (await runNode(embedTrain, { inputs: { in: seeds }, params })).outputs.model!;
      const manifest = JSON.parse(readFileSync(join(model.dir, 'model.json'), 'utf8')) as LearnedManifest;
      const ref = learnedFromOnnx(readFileSync(join(model.dir, 'model.onnx')), manifest);
      const texts = [
        'load load load the pretrained resnet50 model model',
        'zyxwvut qqqq unseen tokens only plus the',
        'once upon a time there lived a king',
        'invoke the pretrained deeplabv3 model for semantic segmentation example 7',
      ];
      const ds = await makeDataset(texts.map((text, i) => ({ id: i, text, source: 's' })));
      const out = await runNode(embedder, { inputs: { in: ds, model }, params: { provider: 'cpu', normalize: false } });
      const { data } = readEmbeddings(out.outputs.out!, 'out');
      const dim = manifest.lexicalDim + manifest.semanticDim;
      const feat = new Featurizer(ref.vocab, ref.oovBuckets);
      let worst = 0;
      texts.forEach((t, i) => embedFeatures(ref, feat.features(t)).forEach((v, j) => (worst = Math.max(worst, Math.abs(v - data[i * dim + j]!)))));
      expect(worst).toBeLessThan(1e-5);
      // The reference is not trivially zero: each text has a unit-length vector.
      expect(Math.abs(dot(data, dim, 0, 0) - 1)).toBeLessThan(1e-4);
    }
  });

  it('removes the principal component from the semantic part and keeps the skipgram within its token budget', async () => {
    const texts = await corpus(200);
    const run = await runNode(embedTrain, { inputs: { in: texts }, params: { ...small, maxTrainTokens: 1000 } });
    const trained = run.logs.map((l) => l.message).find((m) => m.startsWith('skipgram 8 dims on'));
    const [, used, all] = /on (\d+) of (\d+) texts/.exec(trained ?? '') ?? [];
    expect(Number(all)).toBe(200);
    // About 1000 tokens of ~30-token texts: a few dozen texts, not all of them.
    expect(Number(used)).toBeGreaterThan(10);
    expect(Number(used)).toBeLessThan(60);
    const model = run.outputs.model!;
    const manifest = JSON.parse(readFileSync(join(model.dir, 'model.json'), 'utf8')) as LearnedManifest;
    const ref = learnedFromOnnx(readFileSync(join(model.dir, 'model.onnx')), manifest);
    const pcNorm = Math.hypot(...ref.pc);
    expect(pcNorm).toBeCloseTo(1, 5);
    const feat = new Featurizer(ref.vocab, ref.oovBuckets);
    for (const t of twoClassCorpus(6, 500).map((d) => d.text)) {
      const v = embedFeatures(ref, feat.features(t));
      let p = 0;
      ref.pc.forEach((u, j) => (p += u * v[ref.lexicalDim + j]!));
      expect(Math.abs(p)).toBeLessThan(1e-6);
    }
  });

  it('bad input: missing column, no texts, nothing frequent enough, invalid params, not a learned model', async () => {
    const ds = await corpus(20);
    expect((await failure(runNode(embedTrain, { inputs: { in: ds }, params: { ...small, textColumn: 'body' } }))).location.field).toBe('params.textColumn');
    const empty = await makeDataset([{ id: 1, text: '  ', source: 's' }]);
    const none = await failure(runNode(embedTrain, { inputs: { in: empty }, params: small }));
    expect(none.message).toMatch(/no non-empty "text" texts/);
    const one = await makeDataset([{ id: 1, text: 'alpha beta', source: 's' }]);
    expect((await failure(runNode(embedTrain, { inputs: { in: one }, params: small }))).message).toMatch(/no token occurs in 2 or more texts/);
    await expect(runNode(embedTrain, { inputs: { in: ds }, params: { ...small, exactDims: 64 } })).rejects.toThrow(/exactDims cannot exceed lexicalDim/);
    await expect(runNode(embedTrain, { inputs: { in: ds }, params: { ...small, mix: 1.5 } })).rejects.toThrow();

    const model = (await runNode(embedTrain, { inputs: { in: ds }, params: small })).outputs.model!;
    const mf = join(model.dir, 'model.json');
    writeFileSync(mf, readFileSync(mf, 'utf8').replace('"formatVersion":1', '"formatVersion":9'));
    const err = await failure(runNode(embedder, { inputs: { in: ds, model }, params: {} }));
    expect(err.message).toMatch(/forge\.learned-embedder v9 model, expected forge\.learned-embedder v1/);
    expect(err.location.file).toBe(mf);
  });
});
