import type { DuckDBConnection } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { datasetSql } from '../../engine/sdk/dataset.js';
import { mapShards, splitWhere } from '../../engine/sdk/shards.js';
import { NodeError } from '../../engine/sdk/node-error.js';
import { defineNode, type ArtifactRef } from '../../engine/sdk/types.js';
import { sqlIdent, sqlString } from '../../engine/sdk/sql.js';
import { requireColumn } from '../_sdk/dataset/rows.js';
import { thresholdForTarget, wilsonInterval } from '../_sdk/vectors/rank-metrics.js';
import { binaryMetrics, binaryMetricValues, confusion, prChartSpec, prCurve, scoreHistogramSpec, writeChart, writeMetrics } from '../_sdk/report.js';

const params = z
  .object({
    scoreColumn: z.string().min(1).default('score').meta({ title: 'Score column' }),
    threshold: z.number().default(0.5).meta({ title: 'Threshold' }),
    keep: z.enum(['above', 'below']).default('above').meta({ title: 'Keep', description: 'above: keep score ≥ threshold; below: keep score < threshold' }),
    labelColumn: z.string().optional().meta({ title: 'Label column (optional)', description: 'A column with the true class, for precision / recall / F1 and the PR curve (e.g. source)' }),
    positiveValue: z.string().optional().meta({ title: 'Positive value', description: 'Rows whose label equals this (as text) are positives; for a boolean column leave empty (true = positive)' }),
    target: z
      .object({
        metric: z.enum(['precision', 'recall']).meta({ title: 'Metric' }),
        value: z.number().gt(0).max(1).meta({ title: 'At least' }),
      })
      .optional()
      .meta({
        title: 'Pick the threshold for a target',
        description:
          'Ignore the fixed threshold and choose the one that reaches this precision (keeping the most recall) or this recall (keeping the most precision): on the "validation" input when connected (e.g. held-out seeds vs general text, scored the same way), else on the labelled rows of the input; the value and why are in the metrics and on the node',
      }),
  })
  .refine((p) => p.labelColumn !== undefined || p.positiveValue === undefined, { message: 'positiveValue needs a labelColumn', path: ['positiveValue'] })
  .refine((p) => p.target === undefined || p.labelColumn !== undefined, {
    message: 'a target precision / recall needs a label column (in the validation input, or in the input itself)',
    path: ['target'],
  });

type Params = z.output<typeof params>;

/** Scores (NULL kept as null) and whether each row is a positive (unlabelled = false), in dataset order. */
async function readScoresAndLabels(conn: DuckDBConnection, ref: ArtifactRef, p: Params, withLabels: boolean): Promise<{ scoreVals: (number | null)[]; labelVals: boolean[] }> {
  const positive = withLabels
    ? p.positiveValue === undefined
      ? `coalesce(${sqlIdent(p.labelColumn!)}, false)`
      : `coalesce(CAST(${sqlIdent(p.labelColumn!)} AS VARCHAR) = ${sqlString(p.positiveValue)}, false)`
    : 'false';
  const r = await conn.runAndReadAll(`SELECT CAST(${sqlIdent(p.scoreColumn)} AS DOUBLE) AS s, ${positive} AS y FROM ${datasetSql(ref)}`);
  const cols = r.getColumnsJS() as [(number | null)[]?, boolean[]?];
  return { scoreVals: cols[0] ?? [], labelVals: cols[1] ?? [] };
}

export default defineNode({
  type: 'ml.threshold',
  version: 1,
  category: 'ML',
  title: 'Threshold',
  description:
    'Keeps rows whose score passes a threshold and rejects the rest (both outputs). With a label column it also reports accuracy, precision, recall, F1 and average precision and draws the precision-recall curve; without, a score histogram. Re-deciding is cheap: the scores are computed once upstream.',
  inputs: {
    in: { kind: 'dataset' },
    heldOut: {
      kind: 'metrics',
      optional: true,
      title: 'held-out metrics (optional)',
      description: "E.g. the classifier's held-out metrics: warns when they disagree with the labelled rows here beyond the confidence intervals",
    },
    validation: {
      kind: 'dataset',
      optional: true,
      title: 'validation rows (optional)',
      description:
        'Scored like the input, with the label column: e.g. held-out seeds (positive) and general text (negative), or a labelled half of the pool. With a target, the threshold is picked here and applied to the input, so figures on the input stay honest',
    },
  },
  outputs: { kept: { kind: 'dataset' }, rejected: { kind: 'dataset' }, metrics: { kind: 'metrics' }, chart: { kind: 'chart' } },
  params,
  deterministic: true,
  async run(ctx) {
    const p = ctx.params;
    const ref = ctx.input('in');
    const scoreCol = requireColumn(ref, p.scoreColumn, 'in', 'params.scoreColumn');
    if (!/^(DOUBLE|FLOAT|REAL|DECIMAL|INTEGER|BIGINT|SMALLINT|TINYINT|HUGEINT|UBIGINT|UINTEGER)/i.test(scoreCol.type)) {
      throw new NodeError(`column "${p.scoreColumn}" is ${scoreCol.type}, not a number`, { field: 'params.scoreColumn' });
    }
    const validationRef = ctx.optionalInput('validation');
    // With validation rows the input may be unlabelled (the usual case: a pool nobody has labelled).
    const inputHasLabel = p.labelColumn !== undefined && (ref.manifest.schema ?? []).some((c) => c.name === p.labelColumn);
    const labelCol = p.labelColumn !== undefined && (inputHasLabel || !validationRef) ? requireColumn(ref, p.labelColumn, 'in', 'params.labelColumn') : undefined;
    if (labelCol && p.positiveValue === undefined && labelCol.type !== 'BOOLEAN') {
      throw new NodeError(`label column "${p.labelColumn}" is ${labelCol.type}: give the positive value (e.g. the positive source name)`, { field: 'params.positiveValue' });
    }
    const conn = await ctx.duckdb();
    // Orient scores so that "kept" means predicted positive, whatever the direction.
    const sign = p.keep === 'above' ? 1 : -1;
    const { scoreVals, labelVals } = await readScoresAndLabels(conn, ref, p, labelCol !== undefined);
    const oriented = scoreVals.map((v) => (v === null ? NaN : sign * v));
    const s = sqlIdent(p.scoreColumn);

    let t = Number(p.threshold);
    let reason = 'fixed threshold (params.threshold)';
    let validationRecall: { value: number; lo: number; hi: number } | undefined;
    if (p.target) {
      // Validation rows when connected: picking on the rows we report on would flatter the reported figures.
      let pickScores = oriented;
      let pickLabels = labelVals;
      let where = 'labelled rows of the input';
      if (validationRef) {
        requireColumn(validationRef, p.scoreColumn, 'validation', 'params.scoreColumn');
        const vLabel = requireColumn(validationRef, p.labelColumn!, 'validation', 'params.labelColumn');
        if (p.positiveValue === undefined && vLabel.type !== 'BOOLEAN')
          throw new NodeError(`label column "${p.labelColumn}" of the validation rows is ${vLabel.type}: give the positive value`, { field: 'params.positiveValue' });
        const v = await readScoresAndLabels(conn, validationRef, p, true);
        pickScores = v.scoreVals.map((x) => (x === null ? NaN : sign * x));
        pickLabels = v.labelVals;
        where = 'validation rows';
      } else if (!labelCol) {
        throw new NodeError('a target needs labelled rows: connect a "validation" input (e.g. held-out seeds vs general text) or give a label column', { field: 'params.target' });
      }
      const chosen = thresholdForTarget(pickScores, pickLabels, p.target);
      if (!chosen)
        throw new NodeError(`no threshold reaches ${p.target.metric} ≥ ${p.target.value} on the ${pickLabels.length} ${where} (${pickLabels.filter(Boolean).length} positive)`, {
          field: 'params.target',
        });
      // "below" keeps score < t: the oriented cut -x ≥ c becomes x ≤ -c, i.e. x < the next value up; keep ≤ by nudging.
      t = p.keep === 'above' ? chosen.threshold : -chosen.threshold + Number.EPSILON * Math.max(1, Math.abs(chosen.threshold));
      reason = validationRef ? chosen.reason.replace('labelled rows', 'validation rows') : chosen.reason;
      if (validationRef) {
        const positives = pickLabels.filter(Boolean).length;
        const [lo, hi] = wilsonInterval(Math.round(chosen.recall * positives), positives);
        validationRecall = { value: chosen.recall, lo, hi };
      }
      if (validationRef && p.target.metric === 'precision')
        reason += '; precision depends on the share of positives, so it carries over only if the validation rows have about the input’s mix (recall carries over)';
      ctx.log(`threshold ${t} chosen: ${reason}`);
    }
    // NULL scores (e.g. not retrieved) never pass the threshold.
    const pass = p.keep === 'above' ? `coalesce(${s} >= ${t}, false)` : `coalesce(${s} < ${t}, false)`;
    // One unit per input shard, in parallel and resumable shard by shard (engine/sdk/shards.ts); one
    // scan of each shard writes its kept and rejected rows. The shard cache is keyed by every input,
    // so a threshold picked from this input's labels is part of the key.
    const { outputs } = await mapShards(ctx, conn, ref, splitWhere(pass, ['kept', 'rejected']));
    const kept = outputs.kept as { rows: number };
    const rejected = outputs.rejected as { rows: number };
    const total = kept.rows + rejected.rows;

    const predicted = scoreVals.map((v) => v !== null && (p.keep === 'above' ? v >= t : v < t));

    const metrics: Record<string, number | string> = {
      rows_in: total,
      kept: kept.rows,
      rejected: rejected.rows,
      kept_fraction: total > 0 ? kept.rows / total : NaN,
      threshold: t,
      threshold_reason: reason,
      threshold_source: p.target ? (validationRef ? 'validation' : 'labels') : 'fixed',
      keep: p.keep,
    };
    if (labelCol) {
      const m = binaryMetrics(confusion(labelVals, predicted));
      const { points, averagePrecision } = prCurve(oriented, labelVals);
      Object.assign(metrics, binaryMetricValues(m, averagePrecision), { positives: m.tp + m.fn });
      // 95 % Wilson intervals: a labelled sample of a few hundred rows pins precision to ± several points, not to the third decimal.
      const [pLo, pHi] = wilsonInterval(m.tp, m.tp + m.fp);
      const [rLo, rHi] = wilsonInterval(m.tp, m.tp + m.fn);
      Object.assign(metrics, { precision_ci_low: pLo, precision_ci_high: pHi, recall_ci_low: rLo, recall_ci_high: rHi });
      const warnings: string[] = [];
      // Validation rows promise a recall at this threshold; labelled input rows can check the promise.
      // (Precision is not compared: it moves with the share of positives, which validation rows need not share.)
      if (validationRecall !== undefined && Number.isFinite(m.recall)) {
        const v = validationRecall;
        metrics.validation_recall = v.value;
        // Both figures are estimates: warn only when their 95 % intervals do not even overlap.
        if (v.hi < rLo || v.lo > rHi)
          warnings.push(
            `recall here is ${m.recall.toFixed(3)} [${rLo.toFixed(3)}, ${rHi.toFixed(3)}] but ${v.value.toFixed(3)} [${v.lo.toFixed(3)}, ${v.hi.toFixed(3)}] on the validation rows that chose the threshold: the wanted documents here do not look like the validation positives (e.g. held-out seeds), so the threshold does not carry over; pick it on labelled rows of this data`,
          );
      }
      const heldRef = ctx.optionalInput('heldOut');
      if (heldRef) {
        const held = JSON.parse(readFileSync(join(heldRef.dir, 'metrics.json'), 'utf8')) as Record<string, unknown>;
        const off: string[] = [];
        for (const [name, value, lo, hi] of [
          ['precision', m.precision, pLo, pHi],
          ['recall', m.recall, rLo, rHi],
        ] as const) {
          const h = held[name];
          if (typeof h !== 'number' || !Number.isFinite(value)) continue;
          metrics[`held_out_${name}`] = h;
          // The held-out figure is itself an estimate; count it as disagreeing when it lies outside this interval.
          if (h < lo || h > hi) off.push(`${name} ${value.toFixed(3)} [${lo.toFixed(3)}, ${hi.toFixed(3)}] here vs ${h.toFixed(3)} held out`);
        }
        if (off.length > 0)
          warnings.push(`held-out and labelled metrics disagree beyond their 95 % intervals: ${off.join('; ')}. The held-out split does not look like this data; trust the labelled figures.`);
      }
      if (warnings.length > 0) {
        metrics.warning = warnings.join(' Also: ');
        ctx.log(String(metrics.warning), 'warn');
      }
      const shown = points.map((pt) => ({ ...pt, threshold: sign * pt.threshold }));
      await writeChart(
        ctx.output('chart'),
        prChartSpec(shown, { title: `Precision-recall (${p.scoreColumn}; AP ${Number.isFinite(averagePrecision) ? averagePrecision.toFixed(3) : 'n/a'})`, threshold: t, operating: m }),
        { chart: 'precision-recall' },
      );
      ctx.log(`threshold ${t}: kept ${kept.rows}/${total}; precision ${m.precision.toFixed(4)}, recall ${m.recall.toFixed(4)}, F1 ${m.f1.toFixed(4)}, accuracy ${m.accuracy.toFixed(4)}`);
    } else {
      await writeChart(
        ctx.output('chart'),
        scoreHistogramSpec(
          Float64Array.from(scoreVals, (v) => (v === null ? NaN : v)),
          { title: `Distribution of ${p.scoreColumn}`, threshold: t },
        ),
        { chart: 'score histogram' },
      );
      ctx.log(`threshold ${t}: kept ${kept.rows} of ${total}`);
    }
    writeMetrics(ctx.output('metrics'), metrics);
  },
  module: import.meta.url,
});
