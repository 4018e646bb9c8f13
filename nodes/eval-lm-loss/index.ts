import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { NodeError, throwIfAborted } from '../../engine/sdk/node-error.js';
import { defineNode, type InputItem } from '../../engine/sdk/types.js';
import { round, writeChart, writeMetrics, type MetricValue } from '../_sdk/report.js';
import { NgramModel } from '../_sdk/models/ngram-model.js';
import { isTorchLm, OnnxCausalLm, readTorchLmHeader } from '../_sdk/onnx/causal-lm.js';
import { PROVIDER_CHOICES } from '../_sdk/onnx/session.js';
import { POS, positionedSql } from '../_sdk/dataset/rows.js';
import { loadTokenizer } from '../_sdk/text/tokenizer.js';

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

/** Scores a batch of tokenized documents; n-gram and ONNX models behind one shape. */
interface Scorer {
  describe: string;
  score(docs: number[][]): Promise<{ nll: number; predictions: number; unseen: number }[]>;
  metrics: Record<string, MetricValue>;
  release(): Promise<void>;
}

/** Documents scored per ONNX call group (the scorer batches their windows further by size). */
const DOC_BATCH = 64;

interface Bench {
  name: string;
  nll: number;
  predictions: number;
  documents: number;
  unseen: number;
}

export function lossChart(benches: Bench[], title: string): Record<string, unknown> {
  return {
    title: { text: 'Benchmark loss', subtitle: title },
    data: {
      values: benches.map((b) => ({
        benchmark: b.name,
        nll: round(b.nll / b.predictions, 5),
        perplexity: round(Math.exp(b.nll / b.predictions), 3),
        tokens: b.predictions,
        documents: b.documents,
      })),
    },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      x: { field: 'benchmark', type: 'nominal', sort: null, title: null, axis: { labelAngle: 0 } },
      y: { field: 'nll', type: 'quantitative', title: 'mean NLL per token (nats)' },
      color: { field: 'benchmark', type: 'nominal', legend: null },
      tooltip: [
        { field: 'benchmark', type: 'nominal' },
        { field: 'nll', type: 'quantitative', format: '.4f' },
        { field: 'perplexity', type: 'quantitative', format: '.2f' },
        { field: 'tokens', type: 'quantitative', format: ',' },
        { field: 'documents', type: 'quantitative' },
      ],
    },
    width: 280,
    height: 220,
  };
}

function benchName(item: InputItem, all: InputItem[]): string {
  const same = all.filter((i) => i.fromNode === item.fromNode);
  if (same.length === 1) return item.fromNode;
  const v = Object.entries(item.variant)
    .map(([k, x]) => `${k}=${String(x)}`)
    .join(',');
  return `${item.fromNode}[${v || same.indexOf(item)}]`;
}

export default defineNode({
  type: 'eval.lm-loss',
  version: 1,
  category: 'Evaluation',
  title: 'Benchmark loss (LM)',
  description:
    'Scores held-out benchmark datasets with a trained n-gram LM (train.ngram) or a neural proxy LM (train.torch, run by ONNX Runtime on CPU, CUDA or WebGPU, batched): mean negative log-likelihood per token (nats, end-of-document included), perplexity, and the share of tokens never seen in training, per benchmark and overall. Outputs metrics and a bar chart.',
  inputs: {
    model: { kind: 'model', title: 'language model' },
    benchmarks: { kind: 'dataset', title: 'benchmarks', multiple: true },
  },
  outputs: { metrics: { kind: 'metrics' }, chart: { kind: 'chart', title: 'loss per benchmark' } },
  params,
  deterministic: true,
  worker: true,
  async run(ctx) {
    const p = ctx.params;
    const modelRef = ctx.input('model');
    if (!existsSync(join(modelRef.dir, 'tokenizer.json'))) throw new NodeError('the model carries no tokenizer.json', { field: 'inputs.model' });
    const tok = loadTokenizer(join(modelRef.dir, 'tokenizer.json'), ctx.baseDir, 'inputs.model');
    let scorer: Scorer;
    if (isTorchLm(modelRef.dir)) {
      let header;
      try {
        header = readTorchLmHeader(modelRef.dir);
      } catch (err) {
        throw new NodeError(`the model is not a usable neural LM: ${(err as Error).message}`, { field: 'inputs.model' });
      }
      if (tok.sha256 !== header.tokenizer.sha256) throw new NodeError('the tokenizer inside the model does not match the one it was trained with', { field: 'inputs.model' });
      const lm = await OnnxCausalLm.open(modelRef.dir, header.arch, { provider: p.provider, threads: p.threads, log: (m, l) => ctx.log(m, l) });
      ctx.setDevice(`onnxruntime:${lm.device}`);
      const trained = header.stages.reduce((a, st) => a + st.tokens, 0);
      scorer = {
        describe: `transformer ${header.arch.layers}×${header.arch.dModel}, ${header.parameters.toLocaleString('en-US')} parameters, stages ${header.stages.map((st) => st.name).join(' → ')}`,
        score: async (docs) => (await lm.score(docs)).map((d) => ({ ...d, unseen: 0 })),
        metrics: { 'model.parameters': header.parameters, 'model.training_tokens': trained, 'model.stages': header.stages.map((st) => st.name).join(' > ') },
        release: () => lm.release(),
      };
    } else {
      let model: NgramModel;
      try {
        model = NgramModel.load(modelRef.dir);
      } catch (err) {
        throw new NodeError(`the model is neither a forge n-gram LM nor a forge-torch-lm: ${(err as Error).message}`, { field: 'inputs.model' });
      }
      if (tok.sha256 !== model.header.tokenizer.sha256) throw new NodeError('the tokenizer inside the model does not match the one it was trained with', { field: 'inputs.model' });
      scorer = {
        describe: `${model.header.order}-gram, ${model.header.training.tokens.toLocaleString('en-US')} training tokens`,
        score: (docs) => Promise.resolve(docs.map((d) => model.scoreDocument(d))),
        metrics: { 'model.order': model.header.order, 'model.training_tokens': model.header.training.tokens },
        release: () => Promise.resolve(),
      };
    }
    const items = ctx.inputs('benchmarks');
    const benches = new Map<string, Bench>();
    try {
      if (items.length === 0) throw new NodeError('connect at least one benchmark dataset', { field: 'inputs.benchmarks' });
      await scoreBenchmarks();
    } finally {
      await scorer.release();
    }
    async function scoreBenchmarks(): Promise<void> {
      const conn = await ctx.duckdb();
      let done = 0;
      const totalDocs = items.reduce((a, i) => a + (i.ref.manifest.rows ?? 0), 0);
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
            pending.push({ bench: b, ids: r[1] === null || r[1] === undefined ? [] : tok.encode(String(r[1])) });
            if (pending.length >= DOC_BATCH) await flush();
          }
        }
        if (pending.length > 0) await flush();
      }
    }
    const list = [...benches.values()];
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
    Object.assign(m, scorer.metrics);
    writeMetrics(ctx.output('metrics'), m);
    const variant = Object.entries(ctx.variant)
      .map(([k, v]) => `${k} = ${String(v)}`)
      .join(', ');
    await writeChart(ctx.output('chart'), lossChart(list, `${scorer.describe}${variant ? `; ${variant}` : ''}`));
    ctx.log(list.map((b) => `${b.name}: NLL ${(b.nll / b.predictions).toFixed(4)} nats/token, ppl ${Math.exp(b.nll / b.predictions).toFixed(2)} over ${b.predictions} tokens`).join('; '));
  },
  module: import.meta.url,
});
