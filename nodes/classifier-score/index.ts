import { z } from 'zod';
import { writeDatasetFromQuery } from '../../engine/sdk/dataset.js';
import { NodeError } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { sqlIdent } from '../../engine/sdk/sql.js';
import { displayLabel, loadClassifier, scoreTexts } from '../_sdk/models/classifier.js';
import { dropTemp, keptColumns, loadColumns, POS, positionedSql, readStringColumn, requireColumn, type NewColumn } from '../_sdk/dataset/rows.js';
import { PROVIDER_CHOICES } from '../_sdk/onnx/session.js';

const params = z.object({
  textColumn: z.string().min(1).default('text').meta({ title: 'Text column' }),
  positiveLabel: z.string().optional().meta({
    title: 'Score label',
    description: "The label whose probability becomes the score column; default: the model's positive label, for a multi-class model the top label's probability (else the first label)",
  }),
  scoreColumn: z.string().min(1).default('score').meta({ title: 'Score column' }),
  labelColumn: z.string().min(1).default('predicted_label').meta({ title: 'Top-label column' }),
  allLabels: z.boolean().default(false).meta({ title: 'One column per label', description: 'Also write p_<label> for every label' }),
  backend: z.enum(['typescript', 'onnx']).default('typescript').meta({
    title: 'Backend',
    description: 'typescript: bit-reproducible on any machine; onnx: the exported model through ONNX Runtime (CPU/GPU), equal up to float rounding',
  }),
  provider: z.enum(PROVIDER_CHOICES).default('auto').meta({ title: 'Execution provider (onnx backend)' }),
  threads: z.number().int().min(0).max(256).default(0).meta({ title: 'Intra-op threads (onnx backend)' }),
  batchSize: z.number().int().min(1).max(65536).default(512).meta({ title: 'Batch size (onnx backend)' }),
});

export default defineNode({
  type: 'ml.classifier-score',
  version: 1,
  category: 'ML',
  title: 'Classifier: score',
  description:
    'Scores every row with a fastText-style classifier: writes the probability of one label as a score column and the top label (optionally every label’s probability). Deciding is left to the Threshold node.',
  inputs: { model: { kind: 'model' }, in: { kind: 'dataset' } },
  outputs: { out: { kind: 'dataset', title: 'scored' } },
  params,
  deterministic: true,
  worker: true,
  async run(ctx) {
    const p = ctx.params;
    const data = ctx.input('in');
    requireColumn(data, p.textColumn, 'in', 'params.textColumn');
    const { model, manifest, onnx } = loadClassifier(ctx.input('model'));
    const labels = model.labels.map((l) => displayLabel(l, model.args.label));
    // A multi-class model has no "positive" label: its natural score is the confidence in the label it picks.
    const scoreTop = p.positiveLabel === undefined && manifest.multiClass === true;
    const wanted = p.positiveLabel ?? (manifest.positiveLabel ? displayLabel(manifest.positiveLabel, model.args.label) : labels[0]!);
    const scoreIndex = labels.indexOf(wanted);
    if (!scoreTop && scoreIndex < 0) throw new NodeError(`the model has no label "${wanted}" (labels: ${labels.join(', ')})`, { field: 'params.positiveLabel' });

    const conn = await ctx.duckdb();
    const texts = (await readStringColumn(conn, data, p.textColumn)).map((t) => t ?? '');
    const t0 = performance.now();
    const { probs, device } = await scoreTexts(model, onnx, manifest.padId, texts, {
      backend: p.backend,
      provider: p.provider,
      threads: p.threads || undefined,
      batchSize: p.batchSize,
      log: (m, level) => ctx.log(m, level),
      signal: ctx.signal,
      progress: (d, t) => ctx.progress(d, t, 'scoring'),
    });
    ctx.setDevice(device);
    const seconds = (performance.now() - t0) / 1000;
    const nl = labels.length;
    const n = texts.length;
    const score = new Float64Array(n);
    const top: string[] = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let l = 1; l < nl; l++) if (probs[i * nl + l]! > probs[i * nl + best]!) best = l;
      top[i] = labels[best]!;
      score[i] = probs[i * nl + (scoreTop ? best : scoreIndex)]!;
    }
    const cols: NewColumn[] = [
      { name: p.scoreColumn, type: 'DOUBLE', values: score },
      { name: p.labelColumn, type: 'VARCHAR', values: top },
    ];
    if (p.allLabels) labels.forEach((l, li) => cols.push({ name: `p_${l}`, type: 'DOUBLE', values: Float64Array.from({ length: n }, (_, i) => probs[i * nl + li]!) }));
    const names = cols.map((c) => c.name);
    if (new Set(names).size !== names.length) throw new NodeError(`output column names collide: ${names.join(', ')}`, { field: 'params.scoreColumn' });
    const table = await loadColumns(conn, n, cols);
    try {
      const src = await positionedSql(conn, data);
      const kept = keptColumns(data, 'd', names);
      const added = names.map((c) => `s.${sqlIdent(c)}`).join(', ');
      const out = await writeDatasetFromQuery(
        conn,
        `SELECT ${kept ? `${kept}, ` : ''}${added} FROM ${src} d JOIN temp.main.${sqlIdent(table)} s ON s.pos = d.${POS} ORDER BY d.${POS}`,
        ctx.output('out'),
      );
      ctx.log(`scored ${out.rows} rows (${p.scoreColumn} = ${scoreTop ? 'P(top label)' : `P(${wanted})`}) with the ${p.backend} backend on ${device} in ${seconds.toFixed(2)} s`);
    } finally {
      await dropTemp(conn, table);
    }
  },
  module: import.meta.url,
});
