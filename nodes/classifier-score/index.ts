import { z } from 'zod';
import { NodeError } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { sqlIdent } from '../../engine/sdk/sql.js';
import { displayLabel, loadClassifier, scoreTexts } from '../_sdk/models/classifier.js';
import { dropTemp, keptColumns, loadColumns, POS, positionedShards, readStringColumnChunks, requireColumn, writePerShard, type NewColumn } from '../_sdk/dataset/rows.js';
import { vectorChunkRows } from '../_sdk/vectors/embeddings.js';
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
    const n = data.manifest.rows ?? (await positionedShards(conn, data)).reduce((t, sh) => t + sh.rows, 0);
    const nl = labels.length;
    const score = new Float64Array(n);
    const top: string[] = new Array<string>(n);
    const probsAll = p.allLabels ? new Float64Array(n * nl) : undefined;
    // Texts are read and scored a chunk at a time, so the node holds one chunk of texts, not the
    // dataset (issue 11); each row's probabilities do not depend on the other rows of its call.
    let done = 0;
    let seconds = 0;
    let device = 'cpu';
    for await (const chunk of readStringColumnChunks(conn, data, p.textColumn, vectorChunkRows())) {
      const t0 = performance.now();
      const start = done;
      const res = await scoreTexts(
        model,
        onnx,
        manifest.padId,
        chunk.map((t) => t ?? ''),
        {
          backend: p.backend,
          provider: p.provider,
          threads: p.threads || undefined,
          batchSize: p.batchSize,
          // The provider choice is logged once, not once a chunk.
          log: start === 0 ? (m, level) => ctx.log(m, level) : undefined,
          signal: ctx.signal,
          progress: (d) => ctx.progress(start + d, n, 'scoring'),
        },
      );
      seconds += (performance.now() - t0) / 1000;
      device = res.device;
      const probs = res.probs;
      for (let r = 0; r < chunk.length; r++) {
        const i = start + r;
        let best = 0;
        for (let l = 1; l < nl; l++) if (probs[r * nl + l]! > probs[r * nl + best]!) best = l;
        top[i] = labels[best]!;
        score[i] = probs[r * nl + (scoreTop ? best : scoreIndex)]!;
        if (probsAll) for (let l = 0; l < nl; l++) probsAll[i * nl + l] = probs[r * nl + l]!;
      }
      done += chunk.length;
    }
    ctx.setDevice(device);
    const cols: NewColumn[] = [
      { name: p.scoreColumn, type: 'DOUBLE', values: score },
      { name: p.labelColumn, type: 'VARCHAR', values: top },
    ];
    if (probsAll) labels.forEach((l, li) => cols.push({ name: `p_${l}`, type: 'DOUBLE', values: Float64Array.from({ length: n }, (_, i) => probsAll[i * nl + li]!) }));
    const names = cols.map((c) => c.name);
    if (new Set(names).size !== names.length) throw new NodeError(`output column names collide: ${names.join(', ')}`, { field: 'params.scoreColumn' });
    const table = await loadColumns(conn, n, cols);
    try {
      const kept = keptColumns(data, 'd', names);
      const added = names.map((c) => `s.${sqlIdent(c)}`).join(', ');
      // Written one input shard at a time: one ORDER BY over the whole dataset makes DuckDB sort every text at once.
      const out = await writePerShard(
        conn,
        await positionedShards(conn, data),
        { out: { out: ctx.output('out'), query: (src) => `SELECT ${kept ? `${kept}, ` : ''}${added} FROM (${src}) d JOIN temp.main.${sqlIdent(table)} s ON s.pos = d.${POS} ORDER BY d.${POS}` } },
        ctx.signal,
      );
      ctx.log(`scored ${out.out} rows (${p.scoreColumn} = ${scoreTop ? 'P(top label)' : `P(${wanted})`}) with the ${p.backend} backend on ${device} in ${seconds.toFixed(2)} s`);
    } finally {
      await dropTemp(conn, table);
    }
  },
  module: import.meta.url,
});
