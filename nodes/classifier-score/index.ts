import { z } from 'zod';
import { NodeError } from '../../engine/sdk/node-error.js';
import { mapShards, type InputShard, type ShardPrepare } from '../../engine/sdk/shards.js';
import { defineNode } from '../../engine/sdk/types.js';
import { sqlIdent, sqlString } from '../../engine/sdk/sql.js';
import { displayLabel, loadClassifier, scoreTexts } from '../_sdk/models/classifier.js';
import { dropTemp, keptColumns, loadColumns, readStringChunks, requireColumn, tempName, type NewColumn } from '../_sdk/dataset/rows.js';
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
  shardable: { input: 'in' },
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

    const nl = labels.length;
    const names = [p.scoreColumn, p.labelColumn, ...(p.allLabels ? labels.map((l) => `p_${l}`) : [])];
    if (new Set(names).size !== names.length) throw new NodeError(`output column names collide: ${names.join(', ')}`, { field: 'params.scoreColumn' });

    /** Per-row results of one input shard, appended chunk by chunk in row order. */
    interface ShardScores {
      score: number[];
      top: string[];
      perLabel: number[][];
    }
    const addChunk = (acc: ShardScores, probs: Float32Array, n: number): void => {
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let l = 1; l < nl; l++) if (probs[i * nl + l]! > probs[i * nl + best]!) best = l;
        acc.top.push(labels[best]!);
        acc.score.push(probs[i * nl + (scoreTop ? best : scoreIndex)]!);
        if (p.allLabels) for (let l = 0; l < nl; l++) acc.perLabel[l]!.push(probs[i * nl + l]!);
      }
    };
    const columnsOf = (acc: ShardScores): NewColumn[] => [
      { name: p.scoreColumn, type: 'DOUBLE', values: acc.score },
      { name: p.labelColumn, type: 'VARCHAR', values: acc.top },
      ...(p.allLabels ? labels.map((l, li): NewColumn => ({ name: `p_${l}`, type: 'DOUBLE', values: acc.perLabel[li]! })) : []),
    ];

    // Row-wise: each shard is scored on its own (engine/sdk/shards.ts), so a queue run spreads the
    // shards over workers and a killed run resumes shard by shard. The scores go into a temp table on
    // the connection that writes the shard and are joined back by the row's position in its file.
    const prefix = tempName('forge_scores');
    const tableOf = (shard: InputShard) => `${prefix}_${shard.index}`;
    const kept = keptColumns(data, 'd', names);
    const added = names.map((c) => `s.${sqlIdent(c)}`).join(', ');
    const rowsOf = (shard: InputShard) => `read_parquet(${sqlString(shard.file)}, file_row_number = true)`;
    const chunkRows = vectorChunkRows();
    let scored = 0;
    let seconds = 0;
    let device: string | undefined;
    // One shard scores at a time, and its texts are read inside its turn a chunk at a time, so the
    // node holds one chunk of texts whatever the shard or dataset size (issue 11). The TypeScript
    // backend holds the thread anyway, and several ONNX sessions at once would compete for the same
    // cores or GPU memory; the other lanes keep writing.
    let scoring: Promise<unknown> = Promise.resolve();
    const prepare: ShardPrepare = async (shard, conn) => {
      const turn = scoring.then(async () => {
        const acc: ShardScores = { score: [], top: [], perLabel: labels.map(() => []) };
        const texts = readStringChunks(conn, [`SELECT CAST(${sqlIdent(p.textColumn)} AS VARCHAR) AS v FROM ${rowsOf(shard)} ORDER BY file_row_number`], chunkRows);
        for await (const chunk of texts) {
          const t0 = performance.now();
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
              log: device === undefined ? (m, level) => ctx.log(m, level) : undefined,
              signal: ctx.signal,
            },
          );
          seconds += (performance.now() - t0) / 1000;
          device = res.device;
          addChunk(acc, res.probs, chunk.length);
        }
        return acc;
      });
      scoring = turn.catch(() => undefined);
      const acc = await turn;
      scored += acc.score.length;
      const table = await loadColumns(conn, acc.score.length, columnsOf(acc), tableOf(shard));
      return () => dropTemp(conn, table);
    };
    const conn = await ctx.duckdb();
    const { outputs, shards, executed } = await mapShards(
      ctx,
      conn,
      data,
      { out: (shard) => `SELECT ${kept ? `${kept}, ` : ''}${added} FROM ${rowsOf(shard)} d JOIN temp.main.${sqlIdent(tableOf(shard))} s ON s.pos = d.file_row_number ORDER BY d.file_row_number` },
      undefined,
      prepare,
    );
    if (device) ctx.setDevice(device);
    const out = outputs.out as { rows: number };
    ctx.log(
      `scored ${scored} rows of ${out.rows} (${executed.length} of ${shards} shards; ${p.scoreColumn} = ${scoreTop ? 'P(top label)' : `P(${wanted})`}) with the ${p.backend} backend on ${device ?? 'no device (all shards cached)'} in ${seconds.toFixed(2)} s`,
    );
  },
  module: import.meta.url,
});
