import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeError } from '../../engine/sdk/node-error.js';
import { loadClassifier } from '../_sdk/models/classifier.js';
import { splitFastText, tokenize } from '../_sdk/fasttext/dictionary.js';
import { decodeModel } from '../_sdk/onnx/graph.js';
import { cliPredict, fastTextCli, NO_FASTTEXT, twoClassCorpus } from '../_sdk/testing/corpus.js';
import { cleanupTempDirs, makeDataset, runNode, tempDir } from '../_sdk/testing/harness.js';
import train from './index.js';

afterAll(cleanupTempDirs);

async function datasets(n: number) {
  const docs = twoClassCorpus(n, 0);
  const positives = await makeDataset(docs.filter((d) => d.label === 'api').map((d, i) => ({ id: `a${i}`, text: d.text, source: 'api' })));
  const negatives = await makeDataset(docs.filter((d) => d.label === 'prose').map((d, i) => ({ id: `p${i}`, text: d.text, source: 'prose' })));
  return { positives, negatives };
}

const small = { positiveLabel: 'agent', negativeLabel: 'general', dim: 8, bucket: 5000, epoch: 5, lr: 0.5, holdout: 0.2 };

// The comparisons with the `fasttext` command skip where it is not installed; say so once.
if (!fastTextCli()) console.warn(NO_FASTTEXT);

describe('classifier training node', () => {
  it('writes model.onnx + model.json + model.bin and held-out metrics', async () => {
    const inputs = await datasets(200);
    const run = await runNode(train, { inputs, params: small, seed: 3 });
    const model = run.outputs.model!;
    expect(model.manifest.files.map((f) => f.path).sort()).toEqual(['model.bin', 'model.json', 'model.onnx']);
    expect(model.manifest.meta).toMatchObject({
      format: 'forge.fasttext',
      labels: expect.arrayContaining(['agent', 'general']),
      dim: 8,
      loss: 'softmax',
      positiveLabel: 'agent',
      preprocess: 'lower-punct',
    });
    expect(decodeModel(readFileSync(join(model.dir, 'model.onnx'))).outputs).toEqual(['probs', 'hidden']);
    const m = JSON.parse(readFileSync(join(run.outputs.metrics!.dir, 'metrics.json'), 'utf8')) as Record<string, number | string>;
    expect(m).toMatchObject({ accuracy: 1, precision: 1, recall: 1, f1: 1, positives_in: 100, negatives_in: 100, positive_label: 'agent' });
    expect((m.holdout_rows as number) + (m.train_rows as number)).toBe(200);
    expect(m.holdout_rows).toBe((m.true_positives as number) + (m.true_negatives as number));
    // The held-out split is a function of ids and seed only.
    const again = await runNode(train, { inputs, params: small, seed: 3 });
    expect(readFileSync(join(again.outputs.model!.dir, 'model.onnx'))).toEqual(readFileSync(join(model.dir, 'model.onnx')));
    expect(readFileSync(join(again.outputs.metrics!.dir, 'metrics.json'), 'utf8')).toBe(readFileSync(join(run.outputs.metrics!.dir, 'metrics.json'), 'utf8'));
    const other = await runNode(train, { inputs, params: small, seed: 4 });
    expect(readFileSync(join(other.outputs.model!.dir, 'model.onnx'))).not.toEqual(readFileSync(join(model.dir, 'model.onnx')));
  });

  it.skipIf(!fastTextCli())('model.bin gives the same predictions in the fasttext command', async () => {
    const run = await runNode(train, { inputs: await datasets(120), params: { ...small, minn: 3, maxn: 5 } });
    const { model } = loadClassifier(run.outputs.model!);
    const dir = tempDir();
    // The CLI sees raw text: feed it our preprocessed tokens.
    const lines = twoClassCorpus(20, 700).map((d) => tokenize(d.text, model.preprocess).join(' '));
    writeFileSync(join(dir, 'test.txt'), lines.join('\n') + '\n');
    const expected = cliPredict(fastTextCli()!, join(run.outputs.model!.dir, 'model.bin'), join(dir, 'test.txt'), 2);
    lines.forEach((line, i) => {
      const ours = model.predictLikeFastText(model.dict.featurize(splitFastText(line)), 2);
      expect(ours.map((o) => o.label)).toEqual(expected[i]!.map((e) => e.label));
      ours.forEach((o, j) => expect(Math.abs(o.prob - expected[i]![j]!.prob)).toBeLessThan(6e-6));
    });
    expect(execFileSync(fastTextCli()!, ['dump', join(run.outputs.model!.dir, 'model.bin'), 'args'], { encoding: 'utf8' })).toMatch(/dim 8/);
  });

  it('Hogwild! threads and compact models', async () => {
    const inputs = await datasets(160);
    const run = await runNode(train, { inputs, params: { ...small, threads: 2, compact: true } });
    expect(run.outputs.model!.manifest.files.map((f) => f.path)).not.toContain('model.bin');
    expect(run.outputs.metrics!.manifest.meta).toMatchObject({ accuracy: 1, threads: 2 });
    expect(run.logs.some((l) => /2 thread\(s\)/.test(l.message))).toBe(true);
  });

  it('clear errors for missing classes and bad params', async () => {
    const inputs = await datasets(20);
    const empty = await makeDataset([{ id: 'x', text: 'y', source: 's' }], { empty: true });
    await expect(runNode(train, { inputs: { ...inputs, negatives: empty }, params: small })).rejects.toThrow(NodeError);
    await expect(runNode(train, { inputs: { ...inputs, negatives: empty }, params: small })).rejects.toThrow(/no negative examples/);
    await expect(runNode(train, { inputs, params: { ...small, textColumn: 'body' } })).rejects.toThrow(/no column "body"/);
    expect(() => train.params.parse({ positiveLabel: 'a b' })).toThrow(/whitespace/);
    expect(() => train.params.parse({ positiveLabel: 'x', negativeLabel: 'x' })).toThrow(/must differ/);
  });

  it('holdout 0: no held-out figures written or logged, never NaN', async () => {
    const run = await runNode(train, { inputs: await datasets(40), params: { ...small, holdout: 0 } });
    const m = JSON.parse(readFileSync(join(run.outputs.metrics!.dir, 'metrics.json'), 'utf8')) as Record<string, unknown>;
    expect(m).toMatchObject({ holdout_rows: 0, train_rows: 40 });
    expect(m.accuracy).toBeUndefined();
    expect(JSON.stringify(m)).not.toMatch(/NaN|n\/a/);
    expect(run.logs.map((l) => l.message).join('\n')).not.toMatch(/NaN/);
    expect(run.logs.some((l) => /held-out fraction is 0/.test(l.message))).toBe(true);
  });
});
