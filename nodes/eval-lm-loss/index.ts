import { z } from 'zod';
import { NodeError, throwIfAborted } from '../../engine/sdk/node-error.js';
import { defineNode, type ArtifactRef, type InputItem } from '../../engine/sdk/types.js';
import { round, writeChart, writeMetrics, type MetricValue } from '../_sdk/report.js';
import { PROVIDER_CHOICES } from '../_sdk/onnx/session.js';
import { POS, positionedSql } from '../_sdk/dataset/rows.js';
import { checkpointLossChart, lossChart, type Bench, type CheckpointScores } from './charts.js';
import { openScorer, type Scorer } from './scorer.js';

const params = z.object({
  groupBy: z.enum(['input', 'source']).default('input').meta({
    title: 'One benchmark per',
    description: 'input: each connected dataset is a benchmark named after its node; source: each distinct value of the source column is one',
  }),
  names: z
    .record(
      z.string(),
      z
        .string()
        .min(1)
        .regex(/^[A-Za-z0-9_-]+$/),
    )
    .default({})
    .meta({ title: 'Benchmark names', description: 'Rename benchmarks: { "<node id or source>": "name" }' }),
  maxDocuments: z.number().int().min(0).default(0).meta({ title: 'Documents per benchmark', description: 'Score the first N documents of each benchmark (0 = all)' }),
  provider: z
    .enum(PROVIDER_CHOICES)
    .default('auto')
    .meta({ title: 'Execution provider (neural LMs)', description: 'ONNX Runtime provider for forge-torch-lm models: auto tries CUDA, WebGPU, then CPU' }),
  threads: z.number().int().min(0).max(256).default(0).meta({ title: 'CPU threads (neural LMs)', description: '0: one per core' }),
});

/** Documents scored per ONNX call group (the scorer batches their windows further by size). */
const DOC_BATCH = 64;

function benchName(item: InputItem, all: InputItem[]): string {
  const same = all.filter((i) => i.fromNode === item.fromNode);
  if (same.length === 1) return item.fromNode;
  const v = Object.entries(item.variant)
    .map(([k, x]) => `${k}=${String(x)}`)
    .join(',');
  return `${item.fromNode}[${v || same.indexOf(item)}]`;
}

/** A model to score: the `model` input, or one of the earlier checkpoints on `checkpoints`. */
interface Entry {
  ref: ArtifactRef;
  /** Upstream node id, when known (fan-in items carry it; the single `model` input does not). */
  fromNode?: string;
  field: string;
  main: boolean;
}

/** Metric-name-safe form of a checkpoint label ("Stage II" → "Stage_II"). */
export function metricSlug(label: string): string {
  return label.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '') || 'checkpoint';
}

/**
 * Labels each model by the last training stage it went through (n-gram models: their node id),
 * made unique, and orders them by how many stages they went through: a continued checkpoint comes
 * after the one it continued from whatever the edge order. Ties keep input order, the main model last.
 */
export function orderCheckpoints<T extends { stages: string[]; fromNode?: string; main: boolean }>(entries: readonly T[]): (T & { label: string })[] {
  const sorted = entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.stages.length - b.e.stages.length || Number(a.e.main) - Number(b.e.main) || a.i - b.i)
    .map(({ e }) => e);
  const used = new Set<string>();
  return sorted.map((e) => {
    const base = e.stages[e.stages.length - 1] ?? e.fromNode ?? 'model';
    let label = base;
    if (used.has(label) && e.fromNode) label = `${base} (${e.fromNode})`;
    for (let k = 2; used.has(label); k++) label = `${base} #${k}`;
    used.add(label);
    return { ...e, label };
  });
}

export default defineNode({
  type: 'eval.lm-loss',
  version: 1,
  category: 'Evaluation',
  title: 'Benchmark loss (LM)',
  description:
    "Scores held-out benchmark datasets with a trained n-gram LM (train.ngram) or a neural proxy LM (train.torch, run by ONNX Runtime on CPU, CUDA or WebGPU, batched): mean negative log-likelihood per token (nats, end-of-document included), perplexity, and the share of tokens never seen in training, per benchmark and overall. Outputs metrics and a bar chart. Earlier checkpoints on the optional checkpoints input are scored on the same benchmarks, and the chart then shows the loss per benchmark at each checkpoint (the paper's Fig. 5b).",
  inputs: {
    model: { kind: 'model', title: 'language model' },
    benchmarks: { kind: 'dataset', title: 'benchmarks', multiple: true },
    checkpoints: { kind: 'model', title: 'earlier checkpoints (optional)', multiple: true },
  },
  outputs: { metrics: { kind: 'metrics' }, chart: { kind: 'chart', title: 'loss per benchmark (per checkpoint when connected)' } },
  params,
  deterministic: true,
  worker: true,
  async run(ctx) {
    const p = ctx.params;
    const items = ctx.inputs('benchmarks');
    if (items.length === 0) throw new NodeError('connect at least one benchmark dataset', { field: 'inputs.benchmarks' });
    const entries: Entry[] = [
      ...ctx.inputs('checkpoints').map((c) => ({ ref: c.ref, fromNode: c.fromNode, field: 'inputs.checkpoints', main: false })),
      { ref: ctx.input('model'), field: 'inputs.model', main: true },
    ];
    const docsPerModel = items.reduce((a, i) => a + Math.min(i.ref.manifest.rows ?? 0, p.maxDocuments > 0 ? p.maxDocuments : Infinity), 0);
    const totalDocs = docsPerModel * entries.length;
    let done = 0;

    /** Streams every benchmark through one model's tokenizer and scorer. */
    async function scoreBenchmarks(scorer: Scorer): Promise<Bench[]> {
      const benches = new Map<string, Bench>();
      const conn = await ctx.duckdb();
      for (const item of items) {
        const perInput = benchName(item, items);
        const limit = p.maxDocuments > 0 ? `LIMIT ${p.maxDocuments}` : '';
        const sql =
          p.groupBy === 'source'
            ? `SELECT source, text FROM (SELECT source, text, row_number() OVER (PARTITION BY source ORDER BY ${POS}) AS n, ${POS} FROM ${await positionedSql(conn, item.ref)}) ${p.maxDocuments > 0 ? `WHERE n <= ${p.maxDocuments}` : ''} ORDER BY ${POS}`
            : `SELECT NULL AS source, text FROM ${await positionedSql(conn, item.ref)} ORDER BY ${POS} ${limit}`;
        const result = await conn.stream(sql);
        let pending: { bench: Bench; ids: number[] }[] = [];
        const flush = async () => {
          const scores = await scorer.score(pending.map((d) => d.ids));
          pending.forEach((d, k) => {
            const sc = scores[k] as { nll: number; predictions: number; unseen: number };
            d.bench.nll += sc.nll;
            d.bench.predictions += sc.predictions;
            d.bench.unseen += sc.unseen;
            d.bench.documents++;
          });
          done += pending.length;
          pending = [];
          ctx.progress(done, totalDocs, 'scoring');
        };
        for await (const rows of result.yieldRowsJs()) {
          throwIfAborted(ctx.signal);
          for (const r of rows) {
            const raw = p.groupBy === 'source' ? String(r[0]) : perInput;
            const name = p.names[raw] ?? raw;
            let b = benches.get(name);
            if (!b) {
              b = { name, nll: 0, predictions: 0, documents: 0, unseen: 0 };
              benches.set(name, b);
            }
            pending.push({ bench: b, ids: r[1] === null || r[1] === undefined ? [] : scorer.tok.encode(String(r[1])) });
            if (pending.length >= DOC_BATCH) await flush();
          }
        }
        if (pending.length > 0) await flush();
      }
      return [...benches.values()];
    }

    // One model open at a time: each ONNX session holds its own weights and arena.
    const scored: (Entry & { stages: string[]; benches: Bench[]; describe: string; metrics: Record<string, MetricValue> })[] = [];
    for (const e of entries) {
      const scorer = await openScorer(e.ref, {
        provider: p.provider,
        threads: p.threads,
        log: (m, l) => ctx.log(m, l),
        setDevice: e.main ? (d) => ctx.setDevice(d) : undefined,
        field: e.field,
        baseDir: ctx.baseDir,
      });
      try {
        scored.push({ ...e, stages: scorer.stages, benches: await scoreBenchmarks(scorer), describe: scorer.describe, metrics: scorer.metrics });
      } finally {
        await scorer.release();
      }
    }
    const main = scored[scored.length - 1] as (typeof scored)[number];
    const list = main.benches;
    const m: Record<string, MetricValue> = {};
    for (const b of list) {
      const nll = b.nll / b.predictions;
      m[`${b.name}.nll`] = round(nll, 6);
      m[`${b.name}.ppl`] = round(Math.exp(nll), 4);
      m[`${b.name}.tokens`] = b.predictions;
      m[`${b.name}.documents`] = b.documents;
      m[`${b.name}.unseen_rate`] = round(b.unseen / b.predictions, 6);
    }
    const totNll = list.reduce((a, b) => a + b.nll, 0);
    const totTok = list.reduce((a, b) => a + b.predictions, 0);
    m['all.nll'] = round(totNll / totTok, 6);
    m['all.ppl'] = round(Math.exp(totNll / totTok), 4);
    m['mean.nll'] = round(list.reduce((a, b) => a + b.nll / b.predictions, 0) / list.length, 6);
    Object.assign(m, main.metrics);
    const variant = Object.entries(ctx.variant)
      .map(([k, v]) => `${k} = ${String(v)}`)
      .join(', ');
    if (scored.length > 1) {
      const ordered = orderCheckpoints(scored);
      for (const c of ordered) {
        const slug = metricSlug(c.label);
        for (const b of c.benches) m[`${slug}.${b.name}.nll`] = round(b.nll / b.predictions, 6);
        m[`${slug}.mean.nll`] = round(c.benches.reduce((a, b) => a + b.nll / b.predictions, 0) / c.benches.length, 6);
      }
      m.checkpoints = ordered.map((c) => c.label).join(' > ');
      writeMetrics(ctx.output('metrics'), m);
      const charted: CheckpointScores[] = ordered.map((c) => ({ label: c.label, benches: c.benches }));
      await writeChart(ctx.output('chart'), checkpointLossChart(charted, `${main.describe}${variant ? `; ${variant}` : ''}`));
      for (const c of ordered) ctx.log(`${c.label}: ${c.benches.map((b) => `${b.name} ${(b.nll / b.predictions).toFixed(4)}`).join(', ')} nats/token`);
    } else {
      writeMetrics(ctx.output('metrics'), m);
      await writeChart(ctx.output('chart'), lossChart(list, `${main.describe}${variant ? `; ${variant}` : ''}`));
    }
    ctx.log(list.map((b) => `${b.name}: NLL ${(b.nll / b.predictions).toFixed(4)} nats/token, ppl ${Math.exp(b.nll / b.predictions).toFixed(2)} over ${b.predictions} tokens`).join('; '));
  },
  module: import.meta.url,
});
