import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CancelledError } from '../../engine/sdk/node-error.js';
import { OnnxCausalLm, readCurve, readTorchLmHeader } from '../_sdk/onnx/causal-lm.js';
import { cleanupTempDirs, closeExecutor, DATASETS, graph, runGraph, tempDir, TOKENIZER, withGraphRun } from '../_sdk/testing/graph.js';
import { loadTokenizer } from '../_sdk/text/tokenizer.js';
import { handTokenizerJson } from '../_sdk/testing/tiny-models.js';
import { DEFAULT_PYTHON, runPython, startPython, type PyEvent } from './python.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

/** PyTorch in a child process on a shared 2-core machine: generous, not a speed check. */
const SLOW = 600_000;

const GRIMM = join(DATASETS, 'prose/grimms-fairy-tales.txt');

/**
 * A real WordPiece tokenizer over a cut-down MiniLM vocabulary (specials, every single-character
 * piece, and the pieces Grimm's tales use most): the output layer is what a CPU pays for per token,
 * and 30 522 ids would make these tests minutes long on a loaded 2-core machine.
 */
function smallTokenizer(): string {
  const dir = join(tmpdir(), 'forge-train-torch-test-tokenizer');
  const file = join(dir, 'tokenizer.json');
  if (existsSync(file)) return file;
  const full = JSON.parse(readFileSync(TOKENIZER, 'utf8')) as { model: { vocab: Record<string, number> } };
  const byId = Object.entries(full.model.vocab)
    .sort((a, b) => a[1] - b[1])
    .map(([t]) => t);
  const tok = loadTokenizer(TOKENIZER, '/');
  const counts = new Map<number, number>();
  for (const para of readFileSync(GRIMM, 'utf8')
    .split(/\n\s*\n/)
    .slice(0, 1500))
    for (const id of tok.encode(para)) counts.set(id, (counts.get(id) ?? 0) + 1);
  const keep = new Set(['[PAD]', '[UNK]', '[CLS]', '[SEP]', ...byId.filter((t) => t.replace(/^##/, '').length === 1)]);
  for (const [id] of [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])) {
    if (keep.size >= 1200) break;
    keep.add(byId[id] as string);
  }
  const vocab = Object.fromEntries([...keep].map((t, i) => [t, i]));
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, JSON.stringify(handTokenizerJson(vocab)));
  return file;
}
const SMALL_TOKENIZER = smallTokenizer();
const VOCAB = loadTokenizer(SMALL_TOKENIZER, '/').vocabSize;
/** Tiny but real: a real tokenizer, one transformer block, a few dozen steps. */
const TINY = { tokenizer: SMALL_TOKENIZER, layers: 1, dModel: 32, heads: 4, ffn: 64, context: 32, batch: 8, steps: 40, warmupSteps: 4, lr: 3e-3, threads: 1 };

const PAIRS = Array.from({ length: 40 }, (_, i) =>
  JSON.stringify({ id: String(i), prompt: `Question: what is ${i} plus one? Functions: add(a, b).`, completion: ` add(a=${i}, b=1)`, text: 'x' }),
).join('\n');

const pipeline = (train: Record<string, unknown>, extra: Partial<Record<string, unknown>> = {}) =>
  graph(
    [
      { id: 'prose', type: 'source.text-folder', params: { pattern: GRIMM, unit: 'paragraph', minChars: 40 } },
      { id: 'split', type: 'transform.split', params: { testFraction: 0.1 } },
      { id: 'lm', type: 'train.torch', params: { ...TINY, ...train } },
      { id: 'eval', type: 'eval.lm-loss', params: { provider: 'cpu', maxDocuments: 40, ...extra } },
    ],
    [
      ['prose.out', 'split.in'],
      ['split.train', 'lm.train'],
      ['lm.model', 'eval.model'],
      ['split.test', 'eval.benchmarks'],
    ],
  );

/** Scores texts with train.py's own PyTorch forward pass (the reference for the ONNX path). */
async function torchScores(modelDir: string, docs: number[][]): Promise<{ documents: [number, number][]; nll: number; tokens: number }> {
  const work = tempDir();
  const flat = docs.flat();
  writeFileSync(join(work, 'eval.bin'), Buffer.from(new Uint32Array(flat).buffer));
  const offsets: [number, number][] = [];
  let at = 0;
  for (const d of docs) {
    offsets.push([at, at + d.length]);
    at += d.length;
  }
  writeFileSync(join(work, 'offsets.json'), JSON.stringify(offsets));
  const arch = readTorchLmHeader(modelDir).arch;
  const events = await runPython({
    python: DEFAULT_PYTHON,
    workDir: work,
    config: { mode: 'eval', seed: 0, threads: 1, device: 'cpu', arch, init: modelDir, tokens: join(work, 'eval.bin'), offsets: join(work, 'offsets.json') },
  });
  return events.find((e) => e.event === 'eval') as unknown as { documents: [number, number][]; nll: number; tokens: number };
}

describe('train.torch node', () => {
  it(
    'trains a transformer on real prose, exports ONNX that eval.lm-loss scores exactly as PyTorch does, deterministically',
    async () => {
      const run = await runGraph(pipeline({}), { trust: true });
      try {
        expect(run.outcome('lm').error).toBeUndefined();
        expect(run.outcome('eval').error).toBeUndefined();
        const ref = run.artifact('lm', 'model');
        for (const f of ['model.json', 'model.onnx', 'weights.bin', 'weights.json', 'curve.json', 'tokenizer.json']) expect(existsSync(join(ref.dir, f))).toBe(true);
        const header = readTorchLmHeader(ref.dir);
        expect(header.arch).toEqual({ vocabSize: VOCAB + 1, eos: VOCAB, context: 32, layers: 1, dModel: 32, heads: 4, ffn: 64 });
        expect(header.stages).toHaveLength(1);
        const curve = readCurve(ref.dir);
        expect(curve.length).toBeGreaterThan(5);
        // Learning happened: from near ln(vocabulary) down by a clear margin.
        expect((curve[0] as { loss: number }).loss).toBeGreaterThan(Math.log(VOCAB + 1) - 0.5);
        expect((curve[curve.length - 1] as { loss: number }).loss).toBeLessThan((curve[0] as { loss: number }).loss - 1);

        // The ONNX path against PyTorch on the same benchmark texts, per document, to 1e-4 nats/token.
        const texts = (await run.rows('split', 'test')).slice(0, 40).map((r) => String(r.text));
        const tok = loadTokenizer(join(ref.dir, 'tokenizer.json'), '/');
        const docs = texts.map((t) => tok.encode(t));
        expect(docs.some((d) => d.length + 1 > header.arch.context)).toBe(true); // windows are exercised
        const lm = await OnnxCausalLm.open(ref.dir, header.arch, { provider: 'cpu' });
        const onnx = await lm.score(docs, 300);
        await lm.release();
        const ref2 = await torchScores(ref.dir, docs);
        onnx.forEach((s, i) => {
          const [nll, n] = ref2.documents[i] as [number, number];
          expect(s.predictions).toBe(n);
          expect(Math.abs(s.nll / s.predictions - nll / n)).toBeLessThan(1e-4);
        });
        const m = run.metrics('eval');
        expect(Math.abs(Number(m['split.nll']) - ref2.nll / ref2.tokens)).toBeLessThan(1e-4);
        expect(m['split.tokens']).toBe(ref2.tokens);

        // Same seed, another workspace → byte-identical model.
        expect(await withGraphRun(pipeline({}), { trust: true }, (again) => again.artifact('lm', 'model').hash)).toBe(ref.hash);
      } finally {
        run.close();
      }
    },
    SLOW,
  );

  it(
    'continues from a checkpoint with completion-only loss (Stage III) and keeps every stage in the curve',
    async () => {
      const doc = graph(
        [
          { id: 'prose', type: 'source.text-folder', params: { pattern: GRIMM, unit: 'paragraph', minChars: 40 } },
          { id: 'stage1', type: 'train.torch', params: { ...TINY, steps: 12, stage: 'Stage I' } },
          { id: 'pairs', type: 'source.jsonl', params: { path: 'pairs.jsonl' } },
          { id: 'stage3', type: 'train.torch', params: { steps: 12, threads: 1, batch: 8, completionOnly: true, stage: 'Stage III' } },
        ],
        [
          ['prose.out', 'stage1.train'],
          ['stage1.model', 'stage3.model'],
          ['pairs.out', 'stage3.train'],
        ],
      );
      const run = await runGraph(doc, { files: { 'pairs.jsonl': PAIRS }, trust: true });
      try {
        expect(run.outcome('stage3').error).toBeUndefined();
        const dir = run.artifact('stage3', 'model').dir;
        const header = readTorchLmHeader(dir);
        expect(header.stages.map((s) => [s.name, s.completionOnly])).toEqual([
          ['Stage I', false],
          ['Stage III', true],
        ]);
        const curve = readCurve(dir);
        const stages = [...new Set(curve.map((c) => c.stage))];
        expect(stages).toEqual(['Stage I', 'Stage III']);
        const firstIII = curve.find((c) => c.stage === 'Stage III') as { step: number; tokens: number };
        const lastI = curve.filter((c) => c.stage === 'Stage I').pop() as { step: number; tokens: number };
        expect(firstIII.step).toBeGreaterThan(lastI.step);
        expect(firstIII.tokens).toBeGreaterThan(lastI.tokens);
        const m = run.metrics('stage3');
        // Only completions (and their EOS) are targets: far fewer than the stream's tokens.
        expect(Number(m.target_tokens)).toBeGreaterThan(0);
        expect(Number(m.target_tokens)).toBeLessThan(Number(m.stream_tokens) / 2);
        const chart = JSON.parse(readFileSync(join(run.artifact('stage3', 'chart').dir, 'chart.json'), 'utf8')) as { data: { values: { stage: string }[] } };
        expect(new Set(chart.data.values.map((v) => v.stage))).toEqual(new Set(['Stage I', 'Stage III']));
      } finally {
        run.close();
      }
    },
    SLOW,
  );

  it(
    'a Python without torch, or no Python at all, fails with install instructions naming the param',
    async () => {
      const dir = tempDir();
      const noTorch = join(dir, 'python-without-torch');
      // -S skips site-packages, where Debian's python3-torch lives: a real interpreter without torch.
      writeFileSync(noTorch, `#!/bin/sh\nexec ${DEFAULT_PYTHON} -S "$@"\n`);
      chmodSync(noTorch, 0o755);
      for (const [python, says] of [
        [noTorch, 'PyTorch is not installed'],
        [join(dir, 'no-such-python'), 'Python interpreter not found'],
      ] as const) {
        const run = await runGraph(pipeline({ python }), { trust: true }).catch((e: { diagnostics?: unknown }) => {
          throw new Error(JSON.stringify(e.diagnostics));
        });
        try {
          const o = run.outcome('lm');
          expect(o.state).toBe('failed');
          expect(o.error).toContain(says);
          expect(o.error).toContain('apt install python3-torch');
          expect(o.location).toMatchObject({ nodeId: 'lm', field: 'params.python' });
        } finally {
          run.close();
        }
      }
    },
    SLOW,
  );

  it(
    'cancelling kills the training process',
    async () => {
      const work = tempDir();
      const ids = new Uint32Array(4000).map((_, i) => (i * 7919) % 500);
      writeFileSync(join(work, 'tokens.bin'), Buffer.from(ids.buffer));
      const abort = new AbortController();
      const seen: PyEvent[] = [];
      let pid: number | undefined;
      const running = runPython({
        python: DEFAULT_PYTHON,
        workDir: work,
        signal: abort.signal,
        onSpawn: (p) => (pid = p),
        config: {
          mode: 'train',
          seed: 1,
          threads: 1,
          device: 'cpu',
          arch: { vocabSize: 501, eos: 500, context: 16, layers: 1, dModel: 16, heads: 2, ffn: 32 },
          tokens: join(work, 'tokens.bin'),
          batch: 2,
          steps: 10_000_000,
          lr: 1e-3,
          minLr: 1e-4,
          warmupSteps: 0,
          weightDecay: 0,
          gradClip: 0,
          out: work,
          logEvery: 1,
        },
        onEvent: (e) => {
          seen.push(e);
          if (e.event === 'step') abort.abort();
        },
      });
      await expect(running).rejects.toBeInstanceOf(CancelledError);
      expect(seen.some((e) => e.event === 'step')).toBe(true);
      expect(seen.some((e) => e.event === 'done')).toBe(false);
      // The process is gone (already reaped): signalling it fails.
      expect(() => process.kill(pid as number, 0)).toThrow();
      expect(existsSync(join(work, 'model.onnx'))).toBe(false);
    },
    SLOW,
  );

  it(
    'a train.py started ahead of its config (torch importing while the node tokenizes) is killed by stop() and never trains',
    async () => {
      const work = tempDir();
      let pid: number | undefined;
      const seen: PyEvent[] = [];
      const py = startPython({ python: DEFAULT_PYTHON, workDir: work, onSpawn: (p) => (pid = p), onEvent: (e) => seen.push(e) });
      expect(pid).toBeGreaterThan(0);
      py.stop();
      await expect(py.send({ mode: 'probe', seed: 0, threads: 1, device: 'cpu' })).rejects.toBeInstanceOf(CancelledError);
      expect(seen).toEqual([]);
      // The process is gone (already reaped): signalling it fails.
      expect(() => process.kill(pid as number, 0)).toThrow();
    },
    SLOW,
  );

  it(
    'the config sent after start reaches train.py over stdin',
    async () => {
      const py = startPython({ python: DEFAULT_PYTHON, workDir: tempDir() });
      const events = await py.send({ mode: 'probe', seed: 0, threads: 1, device: 'cpu' });
      expect(events).toEqual([expect.objectContaining({ event: 'probe', cuda: expect.any(Boolean) as unknown })]);
    },
    SLOW,
  );
});
