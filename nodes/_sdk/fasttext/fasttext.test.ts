import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSession, ort } from '../onnx/session.js';
import { cleanupTempDirs, tempDir } from '../testing/harness.js';
import { cliPredict, cliQuantize, cliSupervised, fastTextCli, NO_FASTTEXT, twoClassCorpus, writeLabelledCorpus } from '../testing/corpus.js';
import { FastTextFormatError, readFastText, writeFastText } from './bin.js';
import { Dictionary, splitFastText } from './dictionary.js';
import { fnvHash, hashString, wordNgramBuckets } from './hash.js';
import { FastTextModel } from './model.js';
import { fastTextFromOnnx, fastTextToOnnx, manifestOf, padIds } from './onnx.js';
import { trainFastText } from './train.js';

afterAll(cleanupTempDirs);

const CLI = fastTextCli();

/** BigInt reference of fastText's `addWordNgrams` arithmetic. */
function referenceNgrams(hashes: number[], n: number, bucket: number): number[] {
  const out: number[] = [];
  const M = (1n << 64n) - 1n;
  const sx = (h: number) => BigInt.asUintN(64, BigInt(h | 0));
  for (let i = 0; i < hashes.length; i++) {
    let h = sx(hashes[i]!);
    for (let j = i + 1; j < hashes.length && j < i + n; j++) {
      h = (h * 116049371n + sx(hashes[j]!)) & M;
      out.push(Number(h % BigInt(bucket)));
    }
  }
  return out;
}

describe('fastText hashing', () => {
  it('is FNV-1a over UTF-8 with bytes sign-extended like a signed char', () => {
    expect(hashString('a')).toBe(0xe40c292c);
    expect(hashString('</s>')).toBe(fnvHash(new TextEncoder().encode('</s>')));
    // 'é' = C3 A9: each byte is XORed as 0xFFFFFFC3, 0xFFFFFFA9 (not plain FNV-1a).
    let h = 2166136261;
    for (const b of [0xffffffc3, 0xffffffa9]) h = Math.imul((h ^ b) >>> 0, 16777619) >>> 0;
    expect(hashString('é')).toBe(h);
  });

  it('computes word n-gram buckets with fastText 64-bit arithmetic', () => {
    const hashes = ['the', 'pretrained', 'résumé', '</s>', 'model', 'call'].map(hashString);
    expect(hashes.some((x) => x >= 2 ** 31)).toBe(true);
    for (const bucket of [2_000_000, 10007, 1 << 26, 100_000_007]) {
      const got: number[] = [];
      wordNgramBuckets(hashes, 3, bucket, (b) => got.push(b));
      expect(got).toEqual(referenceNgrams(hashes, 3, bucket));
    }
  });
});

describe('fastText features', () => {
  it('gives words, char n-grams (UTF-8 aware) and word n-grams like getLine', () => {
    const dict = new Dictionary(
      { entries: ['hello', '</s>', '__label__x'], counts: [3, 2, 2], types: [0, 0, 1], ntokens: 7, pruneIdx: null },
      { minn: 2, maxn: 3, wordNgrams: 2, bucket: 1000, label: '__label__' },
    );
    const f = Array.from(dict.featurize(['hello', 'né', '__label__x']));
    const sub = (w: string) => {
      // <w> char n-grams of length 2..3, minus single chars at the edges.
      const chars = Array.from(`<${w}>`);
      const out: number[] = [];
      for (let i = 0; i < chars.length; i++) for (let n = 2; n <= 3 && i + n <= chars.length; n++) out.push(2 + (hashString(chars.slice(i, i + n).join('')) % 1000));
      return out;
    };
    const words = [0, ...sub('hello'), ...sub('né'), 1];
    const ngrams = referenceNgrams(['hello', 'né', '</s>'].map(hashString), 2, 1000).map((b) => 2 + b);
    expect(f).toEqual([...words, ...ngrams]);
  });
});

function testLines(dir: string): { file: string; lines: string[] } {
  const lines = twoClassCorpus(40, 5000).map((d) => d.text);
  lines.push('an unseen line with déjà vu naïve 東京 words');
  const file = join(dir, 'test.txt');
  writeFileSync(file, lines.join('\n') + '\n');
  return { file, lines };
}

function expectSameAsCli(model: FastTextModel, cli: string, modelFile: string, test: { file: string; lines: string[] }): void {
  const expected = cliPredict(cli, modelFile, test.file, 2);
  expect(expected.length).toBe(test.lines.length);
  test.lines.forEach((line, i) => {
    const ours = model.predictLikeFastText(model.dict.featurize(splitFastText(line)), 2);
    expect(ours.map((o) => o.label)).toEqual(expected[i]!.map((e) => e.label));
    // The CLI prints 6 significant digits.
    ours.forEach((o, j) => expect(Math.abs(o.prob - expected[i]![j]!.prob)).toBeLessThan(6e-6));
  });
}

describe.skipIf(!CLI)('fastText .bin / .ftz compatibility with the fasttext command', () => {
  if (!CLI) console.warn(NO_FASTTEXT);
  const cli = CLI!;
  const dir = tempDir();
  const train = writeLabelledCorpus(dir, 300, 0);
  const test = testLines(dir);
  const variants: [string, string[]][] = [
    ['softmax + char n-grams + bigrams', ['-loss', 'softmax', '-minn', '2', '-maxn', '4', '-wordNgrams', '2', '-bucket', '20000']],
    ['hierarchical softmax + trigrams', ['-loss', 'hs', '-wordNgrams', '3', '-bucket', '5000']],
    ['one-vs-all', ['-loss', 'ova']],
  ];
  for (const [name, args] of variants) {
    it(`loads a ${name} model and predicts like \`fasttext predict-prob\``, () => {
      const out = join(dir, name.replace(/\W+/g, '_'));
      cliSupervised(cli, train, out, args);
      const { model, quantized } = readFastText(readFileSync(`${out}.bin`));
      expect(quantized).toBe(false);
      expectSameAsCli(model, cli, `${out}.bin`, test);
    });
  }

  it('loads a quantized .ftz (product quantization, pruned buckets, qnorm)', () => {
    const out = join(dir, 'q');
    cliSupervised(cli, train, out, ['-minn', '2', '-maxn', '3', '-wordNgrams', '2', '-bucket', '20000']);
    cliQuantize(cli, train, out, 500, ['-dsub', '2']);
    const { model, quantized } = readFastText(readFileSync(`${out}.ftz`));
    expect(quantized).toBe(true);
    expect(model.dict.pruneIdx?.size).toBeGreaterThan(0);
    expectSameAsCli(model, cli, `${out}.ftz`, test);
  });

  it('writes .bin files the fasttext command loads, with the same predictions', async () => {
    const docs = twoClassCorpus(200, 0);
    const { model } = await trainFastText(docs, { dim: 12, epoch: 5, lr: 0.5, wordNgrams: 2, bucket: 10000, minn: 3, maxn: 5, minCount: 1, loss: 'softmax', threads: 1, seed: 3, preprocess: 'none' });
    const file = join(dir, 'ours.bin');
    writeFileSync(file, writeFastText(model));
    expectSameAsCli(model, cli, file, test);
  });
});

describe('fastText models in ONNX', () => {
  const docs = twoClassCorpus(160, 0);
  const texts = [...twoClassCorpus(30, 900).map((d) => d.text), '', 'completely unknown tokens zzz'];
  for (const loss of ['softmax', 'hs', 'ova'] as const) {
    it(`exports a ${loss} model whose ONNX Runtime probabilities equal the TypeScript path`, async () => {
      const { model } = await trainFastText(docs, { dim: 10, epoch: 4, lr: 0.5, wordNgrams: 2, bucket: 5000, minn: 2, maxn: 3, minCount: 1, loss, threads: 1, seed: 1, preprocess: 'lower-punct' });
      const { bytes, padId } = fastTextToOnnx(model);
      const { session } = await createSession(bytes, { provider: 'cpu' });
      const feats = texts.map((t) => model.features(t));
      const { data, length } = padIds(feats, padId);
      const out = await session.run({ ids: new ort.Tensor('int64', data, [feats.length, length]) });
      const probs = out.probs!.data as Float32Array;
      const hidden = out.hidden!.data as Float32Array;
      const back = fastTextFromOnnx(bytes, manifestOf(model, padId));
      feats.forEach((f, i) => {
        const p = model.probabilities(f);
        p.forEach((v, l) => expect(Math.abs(v - probs[i * 2 + l]!)).toBeLessThan(1e-6));
        const h = model.hidden(f);
        h.forEach((v, j) => expect(Math.abs(v - hidden[i * 10 + j]!)).toBeLessThan(1e-6));
        // Weights read back from model.onnx give bit-identical TypeScript predictions.
        expect(Array.from(back.probabilities(f))).toEqual(Array.from(p));
      });
      if (loss === 'softmax') expect(Array.from(model.probabilities(new Int32Array(0)))).toEqual([0.5, 0.5]);
      await session.release();
    });
  }
});

describe('fastText training', () => {
  const docs = twoClassCorpus(200, 0);
  const heldOut = twoClassCorpus(60, 1000);
  const opts = { dim: 16, epoch: 5, lr: 0.5, wordNgrams: 2, bucket: 10000, minn: 0, maxn: 0, minCount: 1, loss: 'softmax' as const, threads: 1, seed: 11, preprocess: 'none' as const };
  const accuracy = (m: FastTextModel) => heldOut.filter((d) => m.labels[m.probabilities(m.features(d.text))[0]! >= 0.5 ? 0 : 1] === `__label__${d.label}`).length / heldOut.length;

  it('single-threaded training is deterministic for a seed and learns a separable task', async () => {
    const a = await trainFastText(docs, opts);
    const b = await trainFastText(docs, opts);
    const c = await trainFastText(docs, { ...opts, seed: 12 });
    const bytes = (m: FastTextModel) => Buffer.from(writeFastText(m)).toString('base64');
    expect(bytes(a.model)).toBe(bytes(b.model));
    expect(bytes(a.model)).not.toBe(bytes(c.model));
    // fastText counts every token (words, EOS, label) of every line, epoch times.
    const ntokens = a.model.dict.ntokens;
    expect(ntokens).toBe(docs.reduce((s, d) => s + splitFastText(d.text).length + 2, 0));
    expect(a.stats.tokens).toBeGreaterThanOrEqual(5 * ntokens);
    expect(a.stats.tokens).toBeLessThan(5 * ntokens + 200);
    expect(accuracy(a.model)).toBe(1);
  });

  it('the JavaScript kernel (no WebAssembly SIMD) learns the same task, deterministically', async () => {
    const a = await trainFastText(docs, { ...opts, simd: false });
    const b = await trainFastText(docs, { ...opts, simd: false });
    expect(Buffer.from(writeFastText(a.model)).equals(Buffer.from(writeFastText(b.model)))).toBe(true);
    expect(accuracy(a.model)).toBe(1);
    // Same algorithm as the SIMD kernel; only the order of float additions in dot products differs.
    const simd = await trainFastText(docs, opts);
    expect(Math.abs(a.stats.avgLoss - simd.stats.avgLoss)).toBeLessThan(1e-3);
  });

  it('Hogwild! training over worker threads shares the weights and learns the same task', async () => {
    const h = await trainFastText(docs, { ...opts, threads: 2 });
    expect(h.stats.threads).toBe(2);
    expect(h.stats.tokens).toBeGreaterThanOrEqual(5 * h.model.dict.ntokens);
    expect(accuracy(h.model)).toBe(1);
  });

  it('compact models keep only buckets seen in training', async () => {
    const full = await trainFastText(docs, opts);
    const compact = await trainFastText(docs, { ...opts, compact: true });
    expect(compact.model.dict.inputRows).toBeLessThan(full.model.dict.inputRows);
    expect(accuracy(compact.model)).toBe(1);
    expect(() => writeFastText(compact.model)).toThrow(/compact/);
  });
});

describe('fastText file errors', () => {
  it('rejects truncated, foreign and unsupervised files with a reason', async () => {
    const { model } = await trainFastText(twoClassCorpus(20, 0), {
      dim: 4,
      epoch: 1,
      lr: 0.1,
      wordNgrams: 1,
      bucket: 100,
      minn: 0,
      maxn: 0,
      minCount: 1,
      loss: 'softmax',
      threads: 1,
      seed: 1,
      preprocess: 'none',
    });
    const bin = writeFastText(model);
    expect(() => readFastText(bin.subarray(0, bin.length - 10))).toThrow(FastTextFormatError);
    expect(() => readFastText(bin.subarray(0, bin.length - 10))).toThrow(/truncated/);
    expect(() => readFastText(new TextEncoder().encode('{"not": "a model"}'))).toThrow(/not a fastText model/);
    const cbow = bin.slice();
    new DataView(cbow.buffer).setInt32(8 + 7 * 4, 1, true); // args.model = cbow
    expect(() => readFastText(cbow)).toThrow(/not a supervised model/);
  });
});
