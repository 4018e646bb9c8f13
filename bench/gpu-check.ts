// Measures the GPU execution providers against the CPU on the three ONNX paths: the embedder
// (MiniLM-sized BERT), exact k-NN (the ONNX top-k graph) and eval.lm-loss's causal-LM scoring.
// Run through bench/gpu-check.sh, which first checks that an NVIDIA GPU is present.
//
//   node bin/bench.mjs bench/gpu-check.ts [--reps 3] [--no-write]
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TransformerEncoder } from '../nodes/_sdk/vectors/encoders.js';
import { ExactSearcher } from '../nodes/_sdk/vectors/knn.js';
import { OnnxCausalLm, readTorchLmHeader } from '../nodes/_sdk/onnx/causal-lm.js';
import type { Device } from '../nodes/_sdk/onnx/session.js';
import { randomBertWeights, writeBertFolder } from '../nodes/_sdk/testing/bert.js';
import { DATASETS, TOKENIZER } from '../nodes/_sdk/testing/graph.js';
import { loadTokenizer } from '../nodes/_sdk/text/tokenizer.js';
import { DEFAULT_PYTHON, runPython } from '../nodes/train-torch/python.js';
import { TokenStream } from '../nodes/train-torch/stream.js';
import { readFileSync } from 'node:fs';
import { BENCH_DIR, flag, fmt, intOption, log, machine, machineLine, markdownTable, median, writeSection } from './lib/report.js';

const REPS = intOption('reps', 'BENCH_REPS', 3);
const OUT = join(BENCH_DIR, 'out', 'gpu-check');
const DEVICES: Device[] = ['cpu', 'cuda', 'webgpu'];
const started = Date.now();
mkdirSync(OUT, { recursive: true });

const paragraphs = readFileSync(join(DATASETS, 'prose/grimms-fairy-tales.txt'), 'utf8')
  .split(/\n\s*\n/)
  .map((p) => p.replace(/\s+/g, ' ').trim())
  .filter((p) => p.length >= 40);

type Row = { path: string; work: string; unit: string; per: Partial<Record<Device, number | string>> };
const rows: Row[] = [];

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up: session start, kernels, memory arenas
  const ms: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

async function each(path: string, work: string, unit: string, units: number, run: (d: Device) => Promise<() => Promise<unknown>>): Promise<void> {
  const row: Row = { path, work, unit, per: {} };
  for (const d of DEVICES) {
    try {
      const fn = await run(d);
      row.per[d] = units / ((await timeIt(fn)) / 1000);
      log(`${path} on ${d}: ${fmt(row.per[d] as number, 0)} ${unit}`);
    } catch (err) {
      row.per[d] = `unavailable: ${(err as Error).message.split('\n')[0]?.slice(0, 120)}`;
      log(`${path} on ${d}: ${String(row.per[d])}`);
    }
  }
  rows.push(row);
}

// 1. Embedder: MiniLM-sized BERT with random weights (the compute of all-MiniLM-L6-v2).
const bertDir = join(OUT, 'minilm-random');
if (!existsSync(join(bertDir, 'onnx', 'model.onnx'))) {
  const w = randomBertWeights({ vocabSize: 30522, hidden: 384, layers: 6, heads: 12, intermediate: 1536, maxPosition: 512, seed: 0 });
  writeBertFolder(bertDir, w, join(TOKENIZER, '..'), { onnxSubfolder: true, modelMaxLength: 256 });
}
const texts = paragraphs.slice(0, 512);
await each('embedder (MiniLM-L6 size, 512 paragraphs)', '512 texts', 'texts/s', texts.length, async (d) => {
  const enc = await TransformerEncoder.open(bertDir, { provider: d, pooling: 'mean', batchSize: 64, maxLength: 256 });
  return () => enc.encode(texts);
});

// 2. Exact k-NN: 100 000 × 384 base, 1 000 queries, k = 10.
const dim = 384;
const nb = 100_000;
const nq = 1_000;
let s = 1;
const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
const base = Float32Array.from({ length: nb * dim }, rnd);
const queries = Float32Array.from({ length: nq * dim }, rnd);
await each('exact k-NN (100k × 384, 1k queries, k 10)', '1 000 queries', 'queries/s', nq, async (d) => {
  const searcher = await ExactSearcher.open({ provider: d });
  return () => searcher.search(base, nb, queries, nq, dim, 10);
});

// 3. eval.lm-loss on a train.torch model (RegMix proxy size: 2 layers, d_model 256, 8 heads).
const lmDir = join(OUT, 'proxy-lm');
const tok = loadTokenizer(TOKENIZER, '/');
if (!existsSync(join(lmDir, 'model.onnx'))) {
  mkdirSync(lmDir, { recursive: true });
  const stream = new TokenStream(tok.vocabSize, false);
  for (const p of paragraphs.slice(0, 200)) stream.addDocument(tok.encode(p));
  stream.write(join(lmDir, 'tokens.bin'), join(lmDir, 'mask.bin'));
  const arch = { vocabSize: tok.vocabSize + 1, eos: tok.vocabSize, context: 128, layers: 2, dModel: 256, heads: 8, ffn: 512 };
  await runPython({
    python: DEFAULT_PYTHON,
    workDir: lmDir,
    config: {
      mode: 'train',
      seed: 0,
      threads: 0,
      device: 'cpu',
      arch,
      tokens: join(lmDir, 'tokens.bin'),
      batch: 4,
      steps: 2,
      lr: 1e-3,
      minLr: 1e-4,
      warmupSteps: 0,
      weightDecay: 0,
      gradClip: 0,
      out: lmDir,
    },
  });
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    join(lmDir, 'model.json'),
    JSON.stringify({ format: 'forge-torch-lm', version: 1, arch, parameters: 0, tokenizer: { file: 'tokenizer.json', sha256: tok.sha256, name: 'tokenizer.json' }, stages: [], files: {} }),
  );
}
const header = readTorchLmHeader(lmDir);
const docs = paragraphs.slice(0, 400).map((p) => tok.encode(p));
const targets = docs.reduce((a, d) => a + d.length + 1, 0);
await each(`eval.lm-loss (proxy LM 2×256, ${docs.length} docs)`, `${targets} tokens`, 'tokens/s', targets, async (d) => {
  const lm = await OnnxCausalLm.open(lmDir, header.arch, { provider: d });
  return () => lm.score(docs);
});

const cell = (v: number | string | undefined, cpu: number | string | undefined) =>
  typeof v === 'number' ? `${fmt(v, 0)}${typeof cpu === 'number' && v !== cpu ? ` (${fmt(v / cpu)}× CPU)` : ''}` : String(v ?? '–');
const table = markdownTable(
  ['path', 'unit', 'CPU', 'CUDA', 'WebGPU'],
  rows.map((r) => [r.path, r.unit, cell(r.per.cpu, undefined), cell(r.per.cuda, r.per.cpu), cell(r.per.webgpu, r.per.cpu)]),
);
const body = `## GPU providers vs CPU (bench/gpu-check.sh)

${machineLine(machine(), `GPU: ${process.env.FORGE_GPU_NAME ?? 'unknown'}; median of ${REPS} runs after a warm-up; whole check took ${fmt((Date.now() - started) / 60000, 1)} min`)}

${table}`;
log(body);
if (!flag('no-write')) writeSection('gpu-check', body);
