import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { NodeError, throwIfAborted } from '../../engine/sdk/node-error.js';
import { defineNode, type ArtifactRef } from '../../engine/sdk/types.js';
import { round, writeChart, writeMetrics, type MetricValue } from '../_sdk/report.js';
import { readCurve, readTorchLmHeader, TORCH_LM_FORMAT, TORCH_LM_VERSION, type CurvePoint, type TorchLmArch, type TorchLmHeader } from '../_sdk/onnx/causal-lm.js';
import { POS, positionedSql } from '../_sdk/dataset/rows.js';
import { loadTokenizer, tokenizerFiles, WORDS, type TextTokenizer } from '../_sdk/text/tokenizer.js';
import { DEFAULT_PYTHON, startPython, type PyEvent } from './python.js';
import { TokenStream } from './stream.js';
import { stageCurveChart } from './charts.js';

const params = z
  .object({
    tokenizer: z
      .string()
      .min(1)
      .optional()
      .meta({ title: 'Tokenizer', description: 'tokenizer.json (or its folder), as for train.ngram; leave empty when continuing from a model input (its tokenizer is used)', widget: 'file' }),
    layers: z.number().int().min(1).max(48).default(2).meta({ title: 'Layers' }),
    dModel: z.number().int().min(8).max(4096).default(256).meta({ title: 'Model width (d_model)' }),
    heads: z.number().int().min(1).max(64).default(8).meta({ title: 'Attention heads' }),
    ffn: z.number().int().min(8).max(16384).default(512).meta({ title: 'FFN width' }),
    context: z.number().int().min(8).max(4096).default(128).meta({ title: 'Context length (tokens)' }),
    batch: z.number().int().min(1).max(4096).default(16).meta({ title: 'Batch size (sequences)' }),
    steps: z.number().int().min(1).default(200).meta({ title: 'Training steps' }),
    lr: z.number().gt(0).default(1e-3).meta({ title: 'Peak learning rate' }),
    minLr: z.number().min(0).default(1e-4).meta({ title: 'Final learning rate (cosine)' }),
    warmupSteps: z.number().int().min(0).default(20).meta({ title: 'Warm-up steps' }),
    weightDecay: z.number().min(0).default(0.1).meta({ title: 'AdamW weight decay' }),
    gradClip: z.number().min(0).default(1).meta({ title: 'Gradient clip (0 = off)' }),
    completionOnly: z.boolean().default(false).meta({
      title: 'Loss on completions only',
      description: 'Instruction tuning: the dataset has prompt and completion columns; the loss counts only completion tokens (and the EOS after them)',
    }),
    stage: z.string().default('').meta({ title: 'Stage name', description: 'Label of this run in the training curve (default: the node id)' }),
    device: z.enum(['auto', 'cpu', 'cuda']).default('cpu').meta({ title: 'Device', description: "cpu is seed-deterministic; auto uses CUDA when the interpreter's torch sees a GPU" }),
    threads: z.number().int().min(0).max(256).default(2).meta({ title: 'CPU threads', description: 'Fixed, so the same seed gives the same bytes (0: torch decides)' }),
    // Empty means DEFAULT_PYTHON. Left empty, the node runs only its own shipped train.py with the
    // system interpreter, so a graph needs no trust for it; a graph that names an interpreter does.
    python: z
      .string()
      .default('')
      .meta({
        title: 'Python interpreter',
        description: `Runs the node's train.py; must import torch. Empty: ${DEFAULT_PYTHON} (Debian python3-torch). Naming another one (e.g. a venv with CUDA torch) runs that program, so the graph asks for trust`,
        widget: 'file',
      }),
  })
  .refine((p) => p.dModel % p.heads === 0, { message: 'dModel must be a multiple of heads', path: ['heads'] });

type Params = z.output<typeof params>;

function archFrom(p: Params, tok: TextTokenizer): TorchLmArch {
  return { vocabSize: tok.vocabSize + 1, eos: tok.vocabSize, context: p.context, layers: p.layers, dModel: p.dModel, heads: p.heads, ffn: p.ffn };
}

/** Reads the training dataset into one EOS-separated uint32 stream (and a target mask for SFT). */
async function writeStream(ctx: Parameters<typeof trainTorch.run>[0], ref: ArtifactRef, tok: TextTokenizer, eos: number, dir: string): Promise<TokenStream> {
  const p = ctx.params as Params;
  const cols = ref.manifest.schema?.map((c) => c.name) ?? [];
  const need = p.completionOnly ? ['prompt', 'completion'] : ['text'];
  for (const c of need)
    if (!cols.includes(c))
      throw new NodeError(`the training dataset has no ${c} column${p.completionOnly ? ' (completion-only training needs prompt and completion)' : ''}`, { field: 'inputs.train' });
  const stream = new TokenStream(eos, p.completionOnly);
  const conn = await ctx.duckdb();
  const result = await conn.stream(`SELECT ${need.join(', ')} FROM ${await positionedSql(conn, ref)} ORDER BY ${POS}`);
  const total = ref.manifest.rows;
  for await (const rows of result.yieldRowsJs()) {
    throwIfAborted(ctx.signal);
    for (const r of rows) {
      if (p.completionOnly) {
        if (r[1] === null || r[1] === undefined) continue;
        stream.addPair(tok.encode(String(r[0] ?? '')), tok.encode(String(r[1])));
      } else if (r[0] !== null && r[0] !== undefined) stream.addDocument(tok.encode(String(r[0])));
    }
    ctx.progress(stream.documents, total, `tokenizing: ${stream.length} tokens`);
  }
  if (stream.documents === 0) throw new NodeError('the training dataset has no text', { field: 'inputs.train' });
  stream.write(join(dir, 'tokens.bin'), join(dir, 'mask.bin'));
  return stream;
}

const trainTorch = defineNode({
  type: 'train.torch',
  version: 1,
  category: 'Training',
  title: 'Neural proxy LM (PyTorch)',
  description:
    "Trains a small decoder-only transformer (RegMix-style proxy: 2 layers, d_model 256, 8 heads, FFN 512 by default) with PyTorch in a child process, over a real tokenizer's ids. Streams loss, tokens/s and ETA; cancel kills the process; seed-deterministic on CPU. Outputs a forge-torch-lm model (ONNX with dynamic batch and sequence axes, raw weights for continuing, config, tokenizer copy, training curve), metrics and the loss curve chart. A model input continues training from that checkpoint (Stage II / III).",
  inputs: {
    train: { kind: 'dataset', title: 'training text (or prompt/completion pairs)' },
    model: { kind: 'model', title: 'continue from (optional)', optional: true },
  },
  outputs: { model: { kind: 'model', title: 'proxy LM' }, metrics: { kind: 'metrics', title: 'training stats' }, chart: { kind: 'chart', title: 'loss curve' } },
  params,
  deterministic: true,
  worker: true,
  // Only a non-empty python counts (assessTrust skips empty code params): see the param.
  codeParams: ['python'],
  inputFiles: (p, baseDir) => tokenizerFiles(p.tokenizer, baseDir),
  // The training script is the node's code, not user data: it enters the code hash, never the pins.
  codeFiles: ['train.py'],
  async run(ctx) {
    const p = ctx.params;
    const init = ctx.optionalInput('model');
    let prev: TorchLmHeader | undefined;
    let tok: TextTokenizer;
    let arch: TorchLmArch;
    if (init) {
      try {
        prev = readTorchLmHeader(init.dir);
      } catch (err) {
        throw new NodeError(`the model input is not a ${TORCH_LM_FORMAT} checkpoint: ${(err as Error).message}`, { field: 'inputs.model' });
      }
      tok = loadTokenizer(join(init.dir, 'tokenizer.json'), ctx.baseDir, 'inputs.model');
      if (p.tokenizer && loadTokenizer(p.tokenizer, ctx.baseDir).sha256 !== tok.sha256)
        throw new NodeError('the tokenizer param differs from the one the input model was trained with', { field: 'params.tokenizer' });
      arch = prev.arch;
      const mine = archFrom(p, tok);
      const differs = (['layers', 'dModel', 'heads', 'ffn', 'context'] as const).filter((k) => mine[k] !== arch[k]);
      if (differs.length > 0) ctx.log(`continuing from the input model: its architecture is kept (${differs.map((k) => `${k} ${arch[k]}`).join(', ')}), the size params are ignored`, 'warn');
    } else {
      if (!p.tokenizer) throw new NodeError('choose a tokenizer (or connect a model to continue from)', { field: 'params.tokenizer' });
      if (p.tokenizer === WORDS) throw new NodeError(`${WORDS} has no token ids; choose a tokenizer.json`, { field: 'params.tokenizer' });
      tok = loadTokenizer(p.tokenizer, ctx.baseDir);
      arch = archFrom(p, tok);
    }
    const work = mkdtempSync(join(tmpdir(), 'forge-train-torch-'));
    try {
      const out = ctx.output('model');
      const stage = p.stage || ctx.node.id;
      let lastLog = 0;
      let started: PyEvent | undefined;
      let stream: TokenStream | undefined;
      const t0 = performance.now();
      // Python starts first: its `import torch` (seconds) runs while this thread tokenizes.
      const py = startPython({
        python: p.python || DEFAULT_PYTHON,
        workDir: work,
        signal: ctx.signal,
        onEvent: (e) => {
          if (e.event === 'start') {
            started = e;
            ctx.setDevice(`torch:${String(e.device)}`);
            ctx.log(`${String(e.parameters)} parameters on ${String(e.device)} (${String(e.threads)} threads), ${stream?.length} tokens in ${stream?.documents} documents`);
          } else if (e.event === 'step') {
            const step = Number(e.step);
            const msg = `loss ${Number(e.loss).toFixed(4)}, ${Math.round(Number(e.tokensPerSec))} tokens/s, ETA ${Number(e.eta).toFixed(0)} s`;
            ctx.progress(step, Number(e.steps), msg);
            const now = Date.now();
            if (now - lastLog > 5000 || step === Number(e.steps)) {
              lastLog = now;
              ctx.log(`step ${step}/${String(e.steps)}: ${msg}`);
            }
          }
        },
      });
      let tokens: TokenStream;
      try {
        tokens = await writeStream(ctx, ctx.input('train'), tok, arch.eos, work);
        stream = tokens;
        throwIfAborted(ctx.signal);
      } catch (err) {
        py.stop();
        throw err;
      }
      const tokenizeSecs = (performance.now() - t0) / 1000;
      const events = await py.send({
        mode: 'train',
        seed: ctx.seed,
        threads: p.threads,
        device: p.device,
        arch,
        tokens: join(work, 'tokens.bin'),
        mask: p.completionOnly ? join(work, 'mask.bin') : null,
        init: init ? init.dir : null,
        batch: p.batch,
        steps: p.steps,
        lr: p.lr,
        minLr: p.minLr,
        warmupSteps: p.warmupSteps,
        weightDecay: p.weightDecay,
        gradClip: p.gradClip,
        out: out.dir,
      });
      const done = events.find((e) => e.event === 'done');
      if (!done || !existsSync(join(out.dir, 'model.onnx'))) throw new NodeError('train.py ended without exporting model.onnx');
      const [tokJson, tokConfig] = tok.files as [string, string | undefined];
      copyFileSync(tokJson, out.file('tokenizer.json'));
      if (tokConfig) copyFileSync(tokConfig, out.file('tokenizer_config.json'));
      const newPoints = (JSON.parse(readFileSync(join(out.dir, 'curve.json'), 'utf8')) as Omit<CurvePoint, 'stage'>[]).map((c) => ({ stage, ...c }));
      const before = init ? readCurve(init.dir) : [];
      const lastBefore = before[before.length - 1];
      const offsetStep = lastBefore?.step ?? 0;
      const offsetTokens = lastBefore?.tokens ?? 0;
      const curve: CurvePoint[] = [...before, ...newPoints.map((c) => ({ ...c, step: c.step + offsetStep, tokens: c.tokens + offsetTokens }))];
      writeFileSync(join(out.dir, 'curve.json'), JSON.stringify(curve));
      const finalLoss = typeof done.finalLoss === 'number' ? done.finalLoss : null;
      const header: TorchLmHeader = {
        format: TORCH_LM_FORMAT,
        version: TORCH_LM_VERSION,
        arch,
        parameters: Number(started?.parameters ?? 0),
        tokenizer: { file: 'tokenizer.json', sha256: tok.sha256, name: basename(tok.name) },
        stages: [...(prev?.stages ?? []), { name: stage, steps: p.steps, tokens: Number(done.tokens), documents: tokens.documents, completionOnly: p.completionOnly, finalLoss }],
        files: {
          'model.onnx': 'ONNX (opset 14): input_ids int64 [batch, sequence] → logits and logprobs (log_softmax) float32 [batch, sequence, vocabSize]',
          'weights.bin': 'float32 tensors, indexed by weights.json (name → shape, byte offset); what a continuation loads',
          'curve.json': 'training loss per logged step, all stages: { stage, step, loss, tokens }',
          'tokenizer.json': 'copy of the tokenizer; id vocabSize-1 is EOS / document start',
        },
      };
      writeFileSync(out.file('model.json'), `${JSON.stringify(header, null, 1)}\n`);
      out.setMeta('format', `${TORCH_LM_FORMAT}@${TORCH_LM_VERSION}`);
      out.setMeta('parameters', header.parameters);
      out.setMeta('stages', header.stages.map((s) => s.name).join(' → '));
      out.setMeta('tokenizer_sha256', tok.sha256);
      const m: Record<string, MetricValue> = {
        parameters: header.parameters,
        documents: tokens.documents,
        stream_tokens: tokens.length,
        trained_tokens: Number(done.tokens),
        steps: p.steps,
        final_loss: finalLoss === null ? '' : round(finalLoss, 6),
        stage,
        stages: header.stages.length,
      };
      if (p.completionOnly) m.target_tokens = tokens.targets;
      writeMetrics(ctx.output('metrics'), m);
      await writeChart(ctx.output('chart'), stageCurveChart(curve, `${arch.layers} layers, d_model ${arch.dModel}, ${header.parameters.toLocaleString('en-US')} parameters`));
      const secs = Number(done.trainSeconds);
      ctx.log(
        `${stage}: final loss ${finalLoss?.toFixed(4) ?? '–'} after ${p.steps} steps, ${Number(done.tokens)} tokens in ${secs.toFixed(1)} s (${Math.round(Number(done.tokens) / secs)} tokens/s)`,
      );
      // Where a node run's time goes, for the overhead benchmark and for anyone tuning sizes.
      ctx.log(
        `timing: tokenize ${tokenizeSecs.toFixed(2)} s (while Python started), train ${secs.toFixed(2)} s, save + ONNX export ${Number(done.exportSeconds ?? 0).toFixed(2)} s, whole node ${((performance.now() - t0) / 1000).toFixed(2)} s`,
      );
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
  module: import.meta.url,
});

export default trainTorch;
