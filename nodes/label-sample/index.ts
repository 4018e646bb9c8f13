import type { DuckDBConnection } from '@duckdb/node-api';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { z } from 'zod';
import { datasetSql, writeDatasetFromQuery } from '../../engine/sdk/dataset.js';
import { sha256Hex } from '../../engine/sdk/hash.js';
import { disagree, estimatePoolMetrics, type PoolEstimate } from '../../engine/sdk/label-metrics.js';
import { labelsFilePath, listLabelsFiles, readLabelsFile } from '../../engine/sdk/labels-file.js';
import { NodeError } from '../../engine/sdk/node-error.js';
import { sqlIdent, sqlString } from '../../engine/sdk/sql.js';
import { defineNode, type ArtifactRef, type OutputBuilder } from '../../engine/sdk/types.js';
import { requireColumn } from '../_sdk/dataset/rows.js';
import { writeMetrics, type MetricValue } from '../_sdk/report.js';
import { drawSample, stratify, type PoolDoc } from './stratify.js';

const params = z.object({
  sampleSize: z.number().int().min(1).max(10_000).default(100).meta({ title: 'Documents to label', description: 'How many documents to sample from kept + rejected' }),
  strataPerSide: z.number().int().min(1).max(20).default(4).meta({ title: 'Score strata per side', description: 'Kept and rejected are each cut into this many equal-size score bands' }),
  scoreColumn: z.string().min(1).default('score').meta({ title: 'Score column' }),
  textColumn: z.string().min(1).default('text').meta({ title: 'Text column' }),
});

type Params = z.output<typeof params>;

/** Scores, ids and the side of every pool document; texts are fetched only for the sample. */
async function readPool(conn: DuckDBConnection, ref: ArtifactRef, port: 'kept' | 'rejected', p: Params): Promise<PoolDoc[]> {
  requireColumn(ref, 'id', port, 'id');
  requireColumn(ref, p.textColumn, port, 'params.textColumn');
  const score = requireColumn(ref, p.scoreColumn, port, 'params.scoreColumn');
  if (!/^(DOUBLE|FLOAT|REAL|DECIMAL|INTEGER|BIGINT|SMALLINT|TINYINT|HUGEINT|UBIGINT|UINTEGER)/i.test(score.type)) {
    throw new NodeError(`input "${port}": column "${p.scoreColumn}" is ${score.type}, not a number`, { field: 'params.scoreColumn' });
  }
  const r = await conn.runAndReadAll(`SELECT CAST(id AS VARCHAR) AS id, CAST(${sqlIdent(p.scoreColumn)} AS DOUBLE) AS s FROM ${datasetSql(ref)}`);
  const [ids, scores] = r.getColumnsJS() as [(string | null)[], (number | null)[]];
  return ids.map((id, i) => {
    if (id === null) throw new NodeError(`input "${port}": row ${i + 1} has no id`, { field: 'id' });
    return { id, score: scores[i] ?? null, side: port };
  });
}

export default defineNode({
  type: 'ml.label-sample',
  version: 1,
  category: 'ML',
  title: 'Label sample',
  description:
    "Samples documents from a filter's kept and rejected outputs (stratified by score, seeded) for hand labelling (agent / not agent, in the output panel), and estimates precision and recall on the whole pool with 95 % intervals. Warns when a held-out figure disagrees.",
  inputs: {
    kept: { kind: 'dataset', description: 'Documents the filter kept (id, text, score)' },
    rejected: { kind: 'dataset', description: 'Documents the filter rejected (id, text, score)' },
    heldOut: { kind: 'metrics', optional: true, title: 'held-out metrics (optional)', description: "E.g. the classifier's held-out metrics: compared with the labelled-sample estimate" },
  },
  outputs: { labels: { kind: 'dataset', description: 'The sample: id, text, score, side, stratum, label' }, metrics: { kind: 'metrics' } },
  params,
  deterministic: true,
  inputFiles: (_p, baseDir, node) => listLabelsFiles(baseDir, node.id),
  async run(ctx) {
    const p = ctx.params;
    const keptRef = ctx.input('kept');
    const rejectedRef = ctx.input('rejected');
    const conn = await ctx.duckdb();
    const pool = [...(await readPool(conn, keptRef, 'kept', p)), ...(await readPool(conn, rejectedRef, 'rejected', p))];
    const seen = new Set<string>();
    for (const d of pool) {
      if (seen.has(d.id)) throw new NodeError(`document id "${d.id}" appears twice in kept + rejected: labels are kept by id`, { field: 'id' });
      seen.add(d.id);
    }
    const strata = stratify(pool, p.strataPerSide);
    const sample = drawSample(strata, p.sampleSize, ctx.seed);

    // Texts of the sampled documents only (a pool can be large).
    const texts = new Map<string, string>();
    for (const [port, ref] of [
      ['kept', keptRef],
      ['rejected', rejectedRef],
    ] as const) {
      const ids = sample.filter((s) => s.side === port).map((s) => s.id);
      if (ids.length === 0) continue;
      const r = await conn.runAndReadAll(
        `SELECT CAST(id AS VARCHAR) AS id, CAST(${sqlIdent(p.textColumn)} AS VARCHAR) AS t FROM ${datasetSql(ref)} WHERE CAST(id AS VARCHAR) IN (SELECT unnest(${sqlListOf(ids)}))`,
      );
      const [rid, rt] = r.getColumnsJS() as [string[], (string | null)[]];
      rid.forEach((id, i) => texts.set(id, rt[i] ?? ''));
    }
    // The sample's identity: which documents, on which side, with which text. Labels belong to it.
    const sampleHash = sha256Hex(JSON.stringify(sample.map((s) => [s.id, s.side, texts.get(s.id) ?? '']))).slice(0, 32);
    const file = labelsFilePath(ctx.baseDir, ctx.node.id, sampleHash);
    const labelsFile = relative(ctx.baseDir, file).split(sep).join('/');
    const labels = readLabelsFile(file, sampleHash);
    const inSample = new Set(sample.map((s) => s.id));
    const stray = [...labels.keys()].filter((id) => !inSample.has(id));
    if (stray.length > 0) ctx.log(`${labelsFile}: ${stray.length} labelled id(s) not in this sample ignored (e.g. "${stray[0]}")`, 'warn');

    const rows = sample.map((s, i) => ({
      position: i + 1,
      id: s.id,
      text: texts.get(s.id) ?? '',
      score: s.score,
      side: s.side,
      stratum: s.stratum,
      stratum_size: s.stratumSize,
      stratum_sample: s.stratumSample,
      label: labels.has(s.id) ? (labels.get(s.id) as boolean) : null,
    }));
    const out = ctx.output('labels');
    await writeRows(conn, rows, out);
    out.setMeta('sampleHash', sampleHash);
    out.setMeta('labelsFile', labelsFile);
    out.setMeta('nodeId', ctx.node.id);

    const est = estimatePoolMetrics(sample.map((s, i) => ({ side: s.side, stratum: s.stratum, stratumSize: s.stratumSize, label: rows[i]!.label })));
    const keptCount = pool.filter((d) => d.side === 'kept').length;
    const metrics = poolMetrics(est, { kept: keptCount, rejected: pool.length - keptCount, strata: strata.length });
    metrics.sample_hash = sampleHash;
    metrics.labels_file = labelsFile;
    if (!existsSync(file)) metrics.note = `no labels yet: label the sample in the output panel (saved to ${labelsFile})`;

    const heldRef = ctx.optionalInput('heldOut');
    if (heldRef) compareHeldOut(heldRef, est, metrics, (m) => ctx.log(m, 'warn'));
    writeMetrics(ctx.output('metrics'), metrics);
    ctx.log(`sampled ${sample.length} of ${pool.length} documents in ${strata.length} strata; ${est.labelled} labelled (${labelsFile})`);
  },
  module: import.meta.url,
});

function sqlListOf(values: string[]): string {
  return `[${values.map(sqlString).join(', ')}]::VARCHAR[]`;
}

async function writeRows(conn: DuckDBConnection, rows: Record<string, unknown>[], out: OutputBuilder): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'forge-label-sample-'));
  try {
    const json = join(dir, 'rows.json');
    writeFileSync(json, JSON.stringify(rows));
    const columns = "{position: 'INTEGER', id: 'VARCHAR', text: 'VARCHAR', score: 'DOUBLE', side: 'VARCHAR', stratum: 'VARCHAR', stratum_size: 'BIGINT', stratum_sample: 'BIGINT', label: 'BOOLEAN'}";
    await writeDatasetFromQuery(conn, `SELECT * FROM read_json(${sqlString(json)}, format = 'array', columns = ${columns}) ORDER BY position`, out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function poolMetrics(est: PoolEstimate, pool: { kept: number; rejected: number; strata: number }): Record<string, MetricValue> {
  return {
    pool_kept: pool.kept,
    pool_rejected: pool.rejected,
    strata: pool.strata,
    sampled: est.sampled,
    labelled: est.labelled,
    precision: est.precision,
    precision_ci_low: est.precisionLow,
    precision_ci_high: est.precisionHigh,
    recall: est.recall,
    recall_ci_low: est.recallLow,
    recall_ci_high: est.recallHigh,
    est_true_positives: est.truePositives,
    est_false_positives: est.falsePositives,
    est_false_negatives: est.falseNegatives,
  };
}

/** Held-out figures (e.g. a classifier's validation split) that the labelled pool contradicts are the warning this node exists for. */
function compareHeldOut(ref: ArtifactRef, est: PoolEstimate, metrics: Record<string, MetricValue>, warn: (m: string) => void): void {
  const file = join(ref.dir, 'metrics.json');
  const held = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const num = (k: string): number | undefined => (typeof held[k] === 'number' ? (held[k] as number) : undefined);
  const off: string[] = [];
  for (const [name, value, low, high] of [
    ['precision', est.precision, est.precisionLow, est.precisionHigh],
    ['recall', est.recall, est.recallLow, est.recallHigh],
  ] as const) {
    const h = num(name);
    if (h === undefined) continue;
    metrics[`held_out_${name}`] = h;
    const hLow = num(`${name}_ci_low`);
    const hHigh = num(`${name}_ci_high`);
    if (disagree({ value, low, high }, { value: h, low: hLow, high: hHigh })) {
      const hText = hLow !== undefined && hHigh !== undefined ? `${h.toFixed(3)} [${hLow.toFixed(3)}, ${hHigh.toFixed(3)}]` : h.toFixed(3);
      off.push(`${name} ${value.toFixed(3)} [${low.toFixed(3)}, ${high.toFixed(3)}] on the labelled pool vs ${hText} held out`);
    }
  }
  if (off.length > 0) {
    metrics.warning = `held-out and labelled-sample metrics disagree beyond their 95 % intervals: ${off.join('; ')}. The held-out split does not look like the pool; trust the labelled figures.`;
    warn(String(metrics.warning));
  }
}
