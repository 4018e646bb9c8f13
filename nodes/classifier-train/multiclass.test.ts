import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadClassifier } from '../_sdk/models/classifier.js';
import { splitFastText, tokenize } from '../_sdk/fasttext/dictionary.js';
import { cliPredict, fastTextCli, NO_FASTTEXT } from '../_sdk/testing/corpus.js';
import { cleanupTempDirs, makeDataset, readDataset, runNode, tempDir } from '../_sdk/testing/harness.js';
import score from '../classifier-score/index.js';
import train from './index.js';
import { multiClassMetrics } from './multiclass.js';

afterAll(cleanupTempDirs);
if (!fastTextCli()) console.warn(NO_FASTTEXT);

// Real bundled text: the labelled pool's man pages, Debian changelogs, Gutenberg prose and BFCL function-call traces.
const POOL = join(import.meta.dirname, '../../resources/data/labelled-pool/pool-small.jsonl');
const CLASSES = ['bfcl-trace', 'debian-changelog', 'gutenberg', 'man'];
type Row = { id: string; text: string; source: string };
function poolRows(perClass: number): Row[] {
  const all = readFileSync(POOL, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Row);
  return CLASSES.flatMap((c) => all.filter((r) => r.source === c).slice(0, perClass)).map(({ id, text, source }) => ({ id, text, source }));
}

const params = { labelColumn: 'source', dim: 16, epoch: 10, lr: 0.5, bucket: 50_000, holdout: 0.25 };

describe('multi-class training from a label column', () => {
  it('trains one softmax over 4 classes of bundled text and scores the top label', async () => {
    const rows = poolRows(120);
    const data = await makeDataset(rows);
    const run = await runNode(train, { inputs: { positives: data }, params, seed: 5 });
    const m = run.outputs.metrics!.manifest.meta;
    expect(m.classes).toBe(4);
    expect(m.labels).toBe(CLASSES.join(' '));
    expect(Number(m.holdout_rows) + Number(m.train_rows)).toBe(rows.length);
    // Chance is 0.25; these sources differ in vocabulary, and the classifier must tell all four apart.
    expect(Number(m.accuracy)).toBeGreaterThanOrEqual(0.8);
    for (const c of CLASSES) expect(Number(m[`recall.${c}`])).toBeGreaterThan(0.5);
    expect(run.outputs.model!.manifest.meta.labels).toEqual(expect.arrayContaining(CLASSES));
    expect(run.outputs.model!.manifest.meta.positiveLabel).toBeUndefined();

    // Scoring writes the top label and its probability.
    const held = rows.filter((_, i) => i % 10 === 0);
    const scored = await runNode(score, { inputs: { model: run.outputs.model!, in: await makeDataset(held) }, params: { allLabels: true } });
    const out = await readDataset(scored.outputs.out!);
    let right = 0;
    for (const r of out) {
      const probs = CLASSES.map((c) => r[`p_${c}`] as number);
      expect(r.score).toBe(Math.max(...probs));
      expect(r.predicted_label).toBe(CLASSES[probs.indexOf(Math.max(...probs))]);
      if (r.predicted_label === r.source) right++;
    }
    expect(right / out.length).toBeGreaterThanOrEqual(0.8);
    // A chosen label still scores that label.
    const one = await runNode(score, { inputs: { model: run.outputs.model!, in: await makeDataset(held) }, params: { positiveLabel: 'man', allLabels: true } });
    for (const r of await readDataset(one.outputs.out!)) expect(r.score).toBe(r.p_man);
  });

  it.skipIf(!fastTextCli())('the multi-class model.bin predicts the same labels and probabilities in the fasttext command', async () => {
    const rows = poolRows(40);
    const run = await runNode(train, { inputs: { positives: await makeDataset(rows) }, params: { ...params, epoch: 5 } });
    const { model } = loadClassifier(run.outputs.model!);
    const dir = tempDir();
    const lines = rows.filter((_, i) => i % 7 === 0).map((r) => tokenize(r.text, model.preprocess).join(' '));
    writeFileSync(join(dir, 'test.txt'), lines.join('\n') + '\n');
    const expected = cliPredict(fastTextCli()!, join(run.outputs.model!.dir, 'model.bin'), join(dir, 'test.txt'), 4);
    lines.forEach((line, i) => {
      const ours = model.predictLikeFastText(model.dict.featurize(splitFastText(line)), 4);
      expect(ours.map((o) => o.label)).toEqual(expected[i]!.map((e) => e.label));
      ours.forEach((o, j) => expect(Math.abs(o.prob - expected[i]![j]!.prob)).toBeLessThan(6e-6));
    });
  });

  it('needs two classes; binary training still needs negatives', async () => {
    const one = await makeDataset(poolRows(10).filter((r) => r.source === 'man'));
    await expect(runNode(train, { inputs: { positives: one }, params })).rejects.toThrow(/has 1 class\(es\)/);
    await expect(runNode(train, { inputs: { positives: one }, params: { dim: 4 } })).rejects.toThrow(/connect negative examples/);
  });

  it('macro figures average the classes, counting a class never predicted as precision 0', () => {
    const m = multiClassMetrics(['a', 'b', 'c'], ['a', 'a', 'b', 'c'], ['a', 'a', 'a', 'c']);
    expect(m.accuracy).toBe(0.75);
    // a: P 2/3 R 1; b: P 0 (never predicted) R 0; c: P 1 R 1.
    expect(m.macroPrecision).toBeCloseTo((2 / 3 + 0 + 1) / 3, 12);
    expect(m.macroRecall).toBeCloseTo((1 + 0 + 1) / 3, 12);
    expect(m.perLabel.find((l) => l.label === 'b')).toMatchObject({ support: 1, recall: 0 });
  });
});
