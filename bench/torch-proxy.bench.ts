// The neural proxy path: train.torch's overhead over running the same training as a plain PyTorch
// script, and eval.lm-loss's ONNX Runtime scoring against PyTorch scoring of the same model.
//
//   npm run bench:torch-proxy                    # 3 repetitions
//   node bin/bench.mjs bench/torch-proxy.bench.ts --reps 2 --steps 40 --no-write
//
// Training: the node (engine run of source → train.torch: tokenizing, writing the stream,
// spawning train.py, streaming progress, exporting ONNX, writing the artifact) against the same
// train.py config run directly on a pre-written token stream (what a researcher's own script does;
// ONNX export included on both sides). Goal: ≤ 10 % overhead (node time / plain time − 1).
// Scoring: the same benchmark texts, same windows and padded batches, ONNX Runtime CPU (OnnxCausalLm,
// what eval.lm-loss runs) against train.py's PyTorch `eval` mode (torch.no_grad, same thread count).
// Goal: ONNX tokens/s ≥ PyTorch tokens/s.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OnnxCausalLm, readTorchLmHeader } from '../nodes/_sdk/onnx/causal-lm.js';
import { closeExecutor, DATASETS, graph, runGraph, TOKENIZER } from '../nodes/_sdk/testing/graph.js';
import { loadTokenizer } from '../nodes/_sdk/text/tokenizer.js';
import { DEFAULT_PYTHON, runPython } from '../nodes/train-torch/python.js';
import { TokenStream } from '../nodes/train-torch/stream.js';
import { BENCH_DIR, flag, fmt, intOption, log, machine, machineLine, markdownTable, median, writeSection } from './lib/report.js';

const REPS = intOption('reps', 'BENCH_REPS', 3);
const STEPS = intOption('steps', 'BENCH_STEPS', 60);
const THREADS = intOption('threads', 'BENCH_THREADS', 2);
const EVAL_DOCS = intOption('eval-docs', 'BENCH_EVAL_DOCS', 200);
const ARCH = { layers: 2, dModel: 64, heads: 4, ffn: 128, context: 64 };
const TRAIN = { batch: 8, steps: STEPS, lr: 3e-3, minLr: 1e-4, warmupSteps: 6, weightDecay: 0.1, gradClip: 1 };
const GRIMM = join(DATASETS, 'prose/grimms-fairy-tales.txt');
const WORK = join(BENCH_DIR, 'out', 'torch-proxy');

const started = Date.now();
rmSync(WORK, { recursive: true, force: true });
mkdirSync(WORK, { recursive: true });

const paragraphs = readFileSync(GRIMM, 'utf8')
  .split(/\n\s*\n/)
  .map((p) => p.replace(/\s+/g, ' ').trim())
  .filter((p) => p.length >= 40);
const tok = loadTokenizer(TOKENIZER, '/');

async function nodeRun(): Promise<{ ms: number; modelDir: string; close: () => void }> {
  const run = await runGraph(
    graph(
      [
        { id: 'prose', type: 'source.text-folder', params: { pattern: GRIMM, unit: 'paragraph', minChars: 40 } },
        { id: 'lm', type: 'train.torch', params: { tokenizer: TOKENIZER, ...ARCH, ...TRAIN, threads: THREADS } },
      ],
      [['prose.out', 'lm.train']],
    ),
  );
  const o = run.outcome('lm');
  if (o.error) throw new Error(o.error);
  return { ms: o.durationMs, modelDir: run.artifact('lm', 'model').dir, close: () => run.close() };
}

async function plainRun(i: number): Promise<number> {
  const dir = join(WORK, `plain-${i}`);
  mkdirSync(dir, { recursive: true });
  const stream = new TokenStream(tok.vocabSize, false);
  for (const p of paragraphs) stream.addDocument(tok.encode(p));
  stream.write(join(dir, 'tokens.bin'), join(dir, 'mask.bin'));
  const arch = { vocabSize: tok.vocabSize + 1, eos: tok.vocabSize, ...ARCH };
  const t0 = performance.now();
  await runPython({ python: DEFAULT_PYTHON, workDir: dir, config: { mode: 'train', seed: 0, threads: THREADS, device: 'cpu', arch, tokens: join(dir, 'tokens.bin'), ...TRAIN, out: dir } });
  return performance.now() - t0;
}

const nodeMs: number[] = [];
const plainMs: number[] = [];
let modelDir = '';
const closers: (() => void)[] = [];
for (let r = 0; r < REPS; r++) {
  // Alternate so load drifts hit both sides.
  const n = await nodeRun();
  nodeMs.push(n.ms);
  modelDir = n.modelDir;
  closers.push(n.close);
  plainMs.push(await plainRun(r));
  log(`rep ${r + 1}: node ${fmt(n.ms / 1000)} s, plain ${fmt((plainMs[r] as number) / 1000)} s`);
}
const overhead = median(nodeMs) / median(plainMs) - 1;

// Scoring.
const header = readTorchLmHeader(modelDir);
const docs = paragraphs.slice(0, EVAL_DOCS).map((p) => tok.encode(p));
const flat = docs.flat();
writeFileSync(join(WORK, 'eval.bin'), Buffer.from(new Uint32Array(flat).buffer));
let at = 0;
writeFileSync(join(WORK, 'offsets.json'), JSON.stringify(docs.map((d) => [at, (at += d.length)])));
const targets = docs.reduce((a, d) => a + d.length + 1, 0);
const onnxMs: number[] = [];
const torchMs: number[] = [];
let maxDiff = 0;
const lm = await OnnxCausalLm.open(modelDir, header.arch, { provider: 'cpu', threads: THREADS });
for (let r = 0; r < REPS; r++) {
  const t0 = performance.now();
  const scores = await lm.score(docs);
  onnxMs.push(performance.now() - t0);
  const ev = await runPython({
    python: DEFAULT_PYTHON,
    workDir: WORK,
    config: { mode: 'eval', seed: 0, threads: THREADS, device: 'cpu', arch: header.arch, init: modelDir, tokens: join(WORK, 'eval.bin'), offsets: join(WORK, 'offsets.json') },
  });
  const e = ev.find((x) => x.event === 'eval') as unknown as { seconds: number; documents: [number, number][] };
  torchMs.push(e.seconds * 1000);
  scores.forEach((s, i) => (maxDiff = Math.max(maxDiff, Math.abs(s.nll / s.predictions - (e.documents[i] as [number, number])[0] / (e.documents[i] as [number, number])[1]))));
}
await lm.release();
for (const c of closers) c();
await closeExecutor();
const onnxTps = targets / (median(onnxMs) / 1000);
const torchTps = targets / (median(torchMs) / 1000);

const m = machine();
const body = `## Neural proxy: train.torch overhead and ONNX scoring (issue 12)

${machineLine(m, `median of ${REPS} runs; whole bench took ${fmt((Date.now() - started) / 60000, 1)} min`)}

Model: ${ARCH.layers} layers, d_model ${ARCH.dModel}, ${ARCH.heads} heads, FFN ${ARCH.ffn}, context ${ARCH.context}, MiniLM vocabulary (30 523 ids with EOS), ${header.parameters.toLocaleString('en-US')} parameters; ${STEPS} steps of batch ${TRAIN.batch} on Grimm's fairy tales; ${THREADS} torch threads.

| training | wall (median) | goal |
| --- | --- | --- |
| train.torch node (tokenize, stream, spawn, progress, ONNX export, artifact) | ${fmt(median(nodeMs) / 1000)} s | |
| plain PyTorch: the same train.py config on a pre-written stream | ${fmt(median(plainMs) / 1000)} s | |
| overhead | ${fmt(100 * overhead, 1)} % | ≤ 10 %: ${overhead <= 0.1 ? '✅ met' : '❌ not met'} |

| scoring ${docs.length} documents, ${targets.toLocaleString('en-US')} predicted tokens | time (median) | tokens/s | goal |
| --- | --- | --- | --- |
| ONNX Runtime CPU (OnnxCausalLm, as eval.lm-loss) | ${fmt(median(onnxMs))} ms | ${fmt(onnxTps, 0)} | |
| PyTorch (train.py eval: no_grad, same windows and batches) | ${fmt(median(torchMs))} ms | ${fmt(torchTps, 0)} | |
| ratio ONNX / PyTorch | | ${fmt(onnxTps / torchTps)}× | ≥ 1×: ${onnxTps >= torchTps ? '✅ met' : '❌ not met'} |

Largest per-document difference between the two scorers: ${maxDiff.toExponential(2)} nats/token.

Per run (s): node ${nodeMs.map((x) => fmt(x / 1000)).join(' / ')}; plain ${plainMs.map((x) => fmt(x / 1000)).join(' / ')}; ONNX ${onnxMs.map((x) => fmt(x / 1000, 3)).join(' / ')}; PyTorch ${torchMs.map((x) => fmt(x / 1000, 3)).join(' / ')}.`;
log(body);
if (!flag('no-write')) writeSection('torch-proxy', body);
void markdownTable;
