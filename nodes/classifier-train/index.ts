import { z } from 'zod';
import { NodeError } from '../../engine/sdk/node-error.js';
import { defineNode, type ArtifactRef, type RunContext } from '../../engine/sdk/types.js';
import { displayLabel, inHoldout, writeClassifierArtifact } from '../_sdk/models/classifier.js';
import { readIdsAndTexts, readStringColumn, requireColumn } from '../_sdk/dataset/rows.js';
import { LABEL_PREFIX, PREPROCESS } from '../_sdk/fasttext/dictionary.js';
import { trainFastText, type TrainDoc } from '../_sdk/fasttext/train.js';
import { binaryMetrics, binaryMetricValues, confusion, prCurve, writeMetrics } from '../_sdk/report.js';
import { labelToken, multiClassMetrics } from './multiclass.js';

const label = z.string().regex(/^\S+$/, 'a label cannot contain whitespace');

const params = z
  .object({
    textColumn: z.string().min(1).default('text').meta({ title: 'Text column' }),
    labelColumn: z.string().min(1).optional().meta({
      title: 'Label column (multi-class)',
      description:
        'Train over the labels in this column (k classes, softmax as fastText) instead of positives vs negatives: rows come from the first input (and the second, if connected); NULL labels are skipped',
    }),
    positiveLabel: label.default('positive').meta({ title: 'Positive label' }),
    negativeLabel: label.default('negative').meta({ title: 'Negative label' }),
    holdout: z
      .number()
      .min(0)
      .max(0.9)
      .default(0.1)
      .meta({ title: 'Held-out fraction', description: 'Rows (chosen by a hash of id and the graph seed) kept out of training to measure accuracy / precision / recall / F1' }),
    dim: z.number().int().min(1).max(1024).default(100).meta({ title: 'Dimensions' }),
    epoch: z.number().int().min(1).max(1000).default(5).meta({ title: 'Epochs' }),
    lr: z.number().gt(0).max(10).default(0.1).meta({ title: 'Learning rate', description: 'Decays linearly to 0 over training' }),
    wordNgrams: z.number().int().min(1).max(6).default(2).meta({ title: 'Word n-grams' }),
    bucket: z.number().int().min(1).max(10_000_000).default(200_000).meta({ title: 'Hash buckets', description: 'Rows for word / char n-grams (the fastText CLI defaults to 2,000,000)' }),
    minn: z.number().int().min(0).max(20).default(0).meta({ title: 'Min char n-gram' }),
    maxn: z.number().int().min(0).max(20).default(0).meta({ title: 'Max char n-gram', description: '0 = no char n-grams (fastText supervised default)' }),
    minCount: z.number().int().min(1).default(1).meta({ title: 'Min word count' }),
    loss: z.enum(['softmax', 'hs', 'ova']).default('softmax').meta({ title: 'Loss', description: 'softmax, hierarchical softmax, or one-vs-all' }),
    threads: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(1)
      .meta({ title: 'Threads', description: '1 = deterministic (same seed, same model); more = Hogwild! lock-free SGD in worker threads, faster but not reproducible' }),
    preprocess: z.enum(PREPROCESS).default('lower-punct').meta({ title: 'Preprocessing', description: 'Applied to texts before splitting on whitespace; stored with the model' }),
    compact: z.boolean().default(false).meta({ title: 'Compact', description: 'Keep only hash buckets seen in training (much smaller model; unseen n-grams ignored; no fastText .bin)' }),
    writeFastTextBin: z.boolean().default(true).meta({ title: 'Also write model.bin', description: 'The model in fastText format, for the fasttext command line' }),
  })
  .refine((p) => p.positiveLabel !== p.negativeLabel, { message: 'the two labels must differ', path: ['negativeLabel'] })
  .refine((p) => p.maxn === 0 || p.minn <= p.maxn, { message: 'minn must not exceed maxn', path: ['minn'] });

export default defineNode({
  type: 'ml.classifier-train',
  version: 1,
  category: 'ML',
  title: 'Classifier: train (fastText)',
  description:
    'Trains a fastText-style classifier (words + hashed word/char n-grams, mean embedding, linear layer, softmax / hierarchical softmax / one-vs-all, SGD with linearly decaying learning rate; Hogwild! threads) on positive vs negative examples. Outputs an ONNX model with its manifest, and held-out accuracy, precision, recall, F1.',
  inputs: {
    positives: { kind: 'dataset', title: 'positives (or all labelled rows)', description: 'With a label column: the labelled rows of every class' },
    negatives: { kind: 'dataset', optional: true, description: 'Required for positives vs negatives; with a label column, more labelled rows (optional)' },
  },
  outputs: { model: { kind: 'model' }, metrics: { kind: 'metrics', title: 'held-out metrics' } },
  params,
  // With threads = 1 (the default) training is bit-reproducible; Hogwild! threads are not.
  deterministic: true,
  worker: true,
  async run(ctx) {
    const p = ctx.params;
    const posRef = ctx.input('positives');
    const negRef = ctx.optionalInput('negatives');
    if (p.labelColumn !== undefined) return trainMultiClass(ctx, p, negRef ? [posRef, negRef] : [posRef]);
    if (!negRef) throw new NodeError('connect negative examples (or give a label column to train over its classes)', { field: 'inputs.negatives' });
    requireColumn(posRef, p.textColumn, 'positives', 'params.textColumn');
    requireColumn(negRef, p.textColumn, 'negatives', 'params.textColumn');
    const conn = await ctx.duckdb();
    const pos = await readIdsAndTexts(conn, posRef, p.textColumn);
    const neg = await readIdsAndTexts(conn, negRef, p.textColumn);
    if (pos.texts.length === 0) throw new NodeError('no positive examples', { field: 'inputs.positives' });
    if (neg.texts.length === 0) throw new NodeError('no negative examples', { field: 'inputs.negatives' });

    const train: TrainDoc[] = [];
    const held: { text: string; positive: boolean }[] = [];
    const add = (set: { ids: string[]; texts: string[] }, labelName: string, positive: boolean, side: string) => {
      set.texts.forEach((text, i) => {
        // The side is part of the hash input so that the same id in both sets is split independently.
        if (inHoldout(`${side}:${set.ids[i]}`, ctx.seed, p.holdout)) held.push({ text, positive });
        else train.push({ text, label: labelName });
      });
    };
    add(pos, p.positiveLabel, true, 'pos');
    add(neg, p.negativeLabel, false, 'neg');
    if (!train.some((d) => d.label === p.positiveLabel) || !train.some((d) => d.label === p.negativeLabel)) {
      throw new NodeError('after holding out rows, one class has no training examples; lower the held-out fraction or add data', { field: 'params.holdout' });
    }

    const { model, stats } = await train_(ctx, p, train);

    const posIndex = model.labels.indexOf(LABEL_PREFIX + p.positiveLabel);
    const scores = held.map((h) => model.probabilities(model.features(h.text))[posIndex]!);
    const actual = held.map((h) => h.positive);
    const m = binaryMetrics(
      confusion(
        actual,
        scores.map((s) => s >= 0.5),
      ),
    );
    const { averagePrecision } = prCurve(scores, actual);
    const metrics: Record<string, number | string> = {
      // With nothing held out there is nothing to measure: leave the figures out rather than write NaN.
      ...(held.length > 0 ? binaryMetricValues(m, averagePrecision) : {}),
      holdout_rows: held.length,
      train_rows: train.length,
      positives_in: pos.texts.length,
      negatives_in: neg.texts.length,
      train_loss: stats.avgLoss,
      threads: stats.threads,
      vocabulary: stats.vocabulary,
      buckets_used: stats.buckets,
      positive_label: p.positiveLabel,
    };
    if (held.length === 0) ctx.log('held-out fraction is 0: no held-out metrics', 'warn');
    writeMetrics(ctx.output('metrics'), metrics);

    // Timings stay in the log: artifacts hold only what the inputs determine.
    const training = { params: p, seed: ctx.seed, examples: train.length, tokens: stats.tokens, avgLoss: stats.avgLoss, threads: stats.threads };
    writeClassifierArtifact(ctx.output('model'), model, { positiveLabel: LABEL_PREFIX + p.positiveLabel, training, heldOut: metrics }, { writeBin: p.writeFastTextBin && !p.compact });
    if (held.length > 0)
      ctx.log(
        `held-out (${held.length} rows, positive = ${displayLabel(p.positiveLabel)}): accuracy ${m.accuracy.toFixed(4)}, precision ${m.precision.toFixed(4)}, recall ${m.recall.toFixed(4)}, F1 ${m.f1.toFixed(4)}`,
      );
  },
  module: import.meta.url,
});

type Params = z.output<typeof params>;
type Ctx = RunContext<Params>;

/** fastText training with the node's params, logging speed (timings stay out of the artifacts). */
async function train_(ctx: Ctx, p: Params, docs: TrainDoc[]) {
  ctx.setDevice('cpu');
  const out = await trainFastText(
    docs,
    {
      dim: p.dim,
      epoch: p.epoch,
      lr: p.lr,
      wordNgrams: p.wordNgrams,
      bucket: p.bucket,
      minn: p.minn,
      maxn: p.maxn,
      minCount: p.minCount,
      loss: p.loss,
      threads: p.threads,
      seed: ctx.seed,
      preprocess: p.preprocess,
      compact: p.compact,
    },
    { progress: (d, t) => ctx.progress(d, t, 'training'), log: (m) => ctx.log(m), signal: ctx.signal },
  );
  const { stats } = out;
  ctx.log(`trained in ${stats.seconds.toFixed(2)} s: ${Math.round(stats.wordsPerSecondPerThread).toLocaleString('en-US')} words/s/thread, avg loss ${stats.avgLoss.toFixed(4)}`);
  return out;
}

/**
 * k classes from a label column, as `fasttext supervised` does with several `__label__`s: one
 * softmax (or hs / one-vs-all) over all labels. Held-out rows by the same id hash as binary training;
 * metrics are accuracy and macro / per-label precision, recall, F1 of the top label.
 */
async function trainMultiClass(ctx: Ctx, p: Params, refs: ArtifactRef[]): Promise<void> {
  const conn = await ctx.duckdb();
  const train: TrainDoc[] = [];
  const held: { text: string; label: string }[] = [];
  let skipped = 0;
  for (const [side, ref] of refs.entries()) {
    const port = side === 0 ? 'positives' : 'negatives';
    requireColumn(ref, p.textColumn, port, 'params.textColumn');
    requireColumn(ref, p.labelColumn!, port, 'params.labelColumn');
    const rows = await readIdsAndTexts(conn, ref, p.textColumn);
    const labels = await readStringColumn(conn, ref, p.labelColumn!);
    rows.texts.forEach((text, i) => {
      const raw = labels[i];
      const label = raw === null || raw === undefined ? '' : labelToken(raw);
      if (label === '') return void skipped++;
      if (inHoldout(`${side}:${rows.ids[i]}`, ctx.seed, p.holdout)) held.push({ text, label });
      else train.push({ text, label });
    });
  }
  if (skipped > 0) ctx.log(`${skipped} rows without a label skipped`, 'warn');
  const classes = [...new Set(train.map((d) => d.label))].sort();
  if (classes.length < 2)
    throw new NodeError(`label column "${p.labelColumn}" has ${classes.length} class(es) among the training rows; a classifier needs at least 2`, { field: 'params.labelColumn' });

  const { model, stats } = await train_(ctx, p, train);
  const labelNames = model.labels.map((l) => displayLabel(l));
  const predicted = held.map((h) => {
    const probs = model.probabilities(model.features(h.text));
    let best = 0;
    for (let l = 1; l < probs.length; l++) if (probs[l]! > probs[best]!) best = l;
    return labelNames[best]!;
  });
  const mc = multiClassMetrics(
    classes,
    held.map((h) => h.label),
    predicted,
  );
  const metrics: Record<string, number | string> = {
    classes: classes.length,
    labels: classes.join(' '),
    holdout_rows: held.length,
    train_rows: train.length,
    train_loss: stats.avgLoss,
    threads: stats.threads,
    vocabulary: stats.vocabulary,
    buckets_used: stats.buckets,
  };
  if (held.length > 0) {
    Object.assign(metrics, { accuracy: mc.accuracy, macro_precision: mc.macroPrecision, macro_recall: mc.macroRecall, macro_f1: mc.macroF1 });
    for (const l of mc.perLabel) {
      metrics[`support.${l.label}`] = l.support;
      for (const [k, v] of [
        ['precision', l.precision],
        ['recall', l.recall],
        ['f1', l.f1],
      ] as const)
        if (Number.isFinite(v)) metrics[`${k}.${l.label}`] = v;
    }
    ctx.log(`held-out (${held.length} rows, ${classes.length} classes): accuracy ${mc.accuracy.toFixed(4)}, macro F1 ${mc.macroF1.toFixed(4)}`);
  } else ctx.log('held-out fraction is 0: no held-out metrics', 'warn');
  writeMetrics(ctx.output('metrics'), metrics);
  const training = { params: p, seed: ctx.seed, examples: train.length, tokens: stats.tokens, avgLoss: stats.avgLoss, threads: stats.threads };
  // No positive label: scoring reports the top label and its probability (multiClass tells the scorer so).
  writeClassifierArtifact(ctx.output('model'), model, { multiClass: true, training, heldOut: metrics }, { writeBin: p.writeFastTextBin && !p.compact });
}
