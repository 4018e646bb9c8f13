// Corpus nodes throughput on the shared real data (Gutenberg prose, BFCL, Gorilla API docs):
// n-gram (modified Kneser-Ney) training tokens/s, mixer throughput, evaluator scoring, and the
// same nodes end to end through the engine (worker threads, DuckDB reads, artifact publishing).
//
//   npm run bench:corpus-throughput                 # 3 repetitions, writes bench/RESULTS.md
//   node bin/bench.mjs bench/corpus-throughput.bench.ts --reps 1 --no-write
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../engine/engine.js';
import { defaultRegistry } from '../composition/registry.js';
import { GRAPH_FORMAT, GRAPH_VERSION, type GraphDocument } from '../engine/graph/document.js';
import { NgramModel, writeModel, type ModelHeader } from '../nodes/_sdk/models/ngram-model.js';
import { loadTokenizer } from '../nodes/_sdk/text/tokenizer.js';
import { renderRecord } from '../nodes/source-api-docs/render.js';
import { parseAnswers, parseItems, renderItem } from '../nodes/source-bfcl/bfcl.js';
import { planMix } from '../nodes/mixer/mix.js';
import { findNearDuplicates } from '../nodes/dedup-near/minhash.js';
import { KnCounter } from '../nodes/train-ngram/kn.js';
import { flag, fmt, intOption, log, machine, machineLine, markdownTable, median, REPO_ROOT, writeSection } from './lib/report.js';

const REPS = intOption('reps', 'BENCH_REPS', 3);
const SHARED = join(REPO_ROOT, '..', 'shared');
const TOKENIZER = join(SHARED, 'models/all-MiniLM-L6-v2-tokenizer/tokenizer.json');
const DATA = join(SHARED, 'datasets');

// ---- corpus: real documents, rendered as the loaders render them ----
function prose(): string[] {
  const out: string[] = [];
  for (const f of ['grimms-fairy-tales.txt', 'japanese-fairy-tales.txt']) {
    for (const p of readFileSync(join(DATA, 'general/gutenberg', f), 'utf8').split(/\r?\n[ \t]*\r?\n/)) {
      const t = p.replace(/\s*\n\s*/g, ' ').trim();
      if (t.length >= 40) out.push(t);
    }
  }
  return out;
}

function agent(): string[] {
  const out: string[] = [];
  const dir = join(DATA, 'agent/bfcl');
  for (const f of readdirSync(dir)
    .filter((n) => n.startsWith('BFCL_') && !n.includes('multi_turn'))
    .sort()) {
    let answers = new Map<string, unknown>();
    try {
      answers = parseAnswers(readFileSync(join(dir, 'possible_answer', f), 'utf8'));
    } catch {
      // no ground truth for this category
    }
    for (const item of parseItems(readFileSync(join(dir, f), 'utf8'))) out.push(renderItem(item.functions ?? [], item.turns, answers.get(item.id), { functionFormat: 'json', withAnswers: true }));
  }
  for (const f of ['huggingface_api.jsonl', 'tensorflowhub_api.jsonl', 'torchhub_api.jsonl']) {
    for (const line of readFileSync(join(DATA, 'agent/gorilla-api-docs', f), 'utf8').split('\n')) {
      if (line.trim()) out.push(renderRecord(JSON.parse(line), { format: 'keyvalue', fields: [], exclude: [], titleField: 'api_name', skipEmpty: true }));
    }
  }
  return out;
}

function time<T>(fn: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = fn();
  return { ms: performance.now() - t0, value };
}

const tok = loadTokenizer(TOKENIZER, '/');
const proseDocs = prose();
const agentDocs = agent();
const allDocs = [...agentDocs, ...proseDocs];
const chars = allDocs.reduce((a, d) => a + d.length, 0);
log(`corpus: ${agentDocs.length} agent + ${proseDocs.length} prose documents, ${fmt(chars / 1e6, 1)} M chars; ${REPS} repetitions`);

const tokRuns: number[] = [];
let ids: number[][] = [];
for (let r = 0; r < REPS; r++) {
  const t = time(() => allDocs.map((d) => tok.encode(d)));
  ids = t.value;
  tokRuns.push(t.ms);
}
const tokens = ids.reduce((a, d) => a + d.length, 0);
log(`  tokenize (MiniLM WordPiece, @huggingface/tokenizers): ${fmt(tokens, 0)} tokens, median ${fmt(median(tokRuns), 0)} ms → ${fmt(tokens / (median(tokRuns) / 1000), 0)} tokens/s`);

interface TrainRow {
  label: string;
  countMs: number[];
  buildMs: number[];
  ngrams: number[];
}
const trainRows: TrainRow[] = [];
let model3: { header: ModelHeader; built: ReturnType<KnCounter['build']> } | null = null;
for (const [order, prune] of [
  [3, [0]],
  [4, [0]],
  [5, [0, 0, 1]],
] as [number, number[]][]) {
  const row: TrainRow = { label: `order ${order}${prune.some((x) => x > 0) ? `, prune ${prune.join(' ')}` : ''}`, countMs: [], buildMs: [], ngrams: [] };
  for (let r = 0; r < REPS; r++) {
    const counter = new KnCounter({ order, vocabSize: tok.vocabSize, prune });
    const c = time(() => {
      for (const d of ids) counter.add(d);
    });
    const b = time(() => counter.build());
    row.countMs.push(c.ms);
    row.buildMs.push(b.ms);
    row.ngrams = b.value.ngrams;
    if (order === 3 && !model3) {
      model3 = {
        built: b.value,
        header: {
          format: 'forge-ngram-lm',
          version: 1,
          smoothing: 'interpolated-modified-kneser-ney',
          order,
          vocabSize: tok.vocabSize,
          bos: tok.vocabSize,
          eos: tok.vocabSize + 1,
          uniformSize: tok.vocabSize + 1,
          discounts: b.value.discounts,
          discountFallbackOrders: b.value.fallbackOrders,
          prune,
          ngrams: b.value.ngrams,
          pruned: b.value.pruned,
          contexts: b.value.contexts,
          training: { documents: b.value.documents, tokens: b.value.tokens, predictedTokens: b.value.predictedTokens },
          tokenizer: { file: 'tokenizer.json', sha256: tok.sha256, name: 'bench' },
          files: {},
        },
      };
    }
  }
  trainRows.push(row);
  const total = median(row.countMs) + median(row.buildMs);
  log(`  KN ${row.label}: count ${fmt(median(row.countMs), 0)} ms, build ${fmt(median(row.buildMs), 0)} ms → ${fmt(tokens / (total / 1000), 0)} tokens/s (ids in); n-grams ${row.ngrams.join('/')}`);
}

// ---- scoring with the saved model (what the evaluator does per token) ----
const dir = mkdtempSync(join(tmpdir(), 'forge-bench-corpus-'));
const scoreMs: number[] = [];
let loadMs = 0;
let scored = 0;
try {
  if (!model3) throw new Error('no model');
  writeModel(dir, model3.header, model3.built.tables, model3.built.codec);
  const l = time(() => NgramModel.load(dir));
  loadMs = l.ms;
  const sample = ids.filter((_, i) => i % 4 === 0);
  for (let r = 0; r < REPS; r++) {
    const t = time(() => {
      let n = 0;
      for (const d of sample) n += l.value.scoreDocument(d).predictions;
      return n;
    });
    scored = t.value;
    scoreMs.push(t.ms);
  }
  log(`  score (trigram, load ${fmt(loadMs, 0)} ms): ${fmt(scored, 0)} predictions in ${fmt(median(scoreMs), 0)} ms → ${fmt(scored / (median(scoreMs) / 1000), 0)} tokens/s`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// ---- mixer planning (token counts already known) ----
const counts = ids.map((d) => d.length);
const nAgent = agentDocs.length;
const mixSources = [
  { name: 'agent', ids: agentDocs.map((_, i) => `a${i}`), tokens: Int32Array.from(counts.slice(0, nAgent)) },
  { name: 'general', ids: proseDocs.map((_, i) => `p${i}`), tokens: Int32Array.from(counts.slice(nAgent)) },
];
const planMs: number[] = [];
let planned = 0;
for (let r = 0; r < REPS; r++) {
  const t = time(() => planMix(mixSources, { shares: [0.3, 0.7], totalTokens: 1_000_000, policy: 'upsample', maxEpochs: 4, seed: r }));
  planMs.push(t.ms);
  planned = t.value.picks.length;
}
log(`  mixer plan (1M tokens, 0.3/0.7): ${planned} picks in ${fmt(median(planMs), 1)} ms`);

// ---- near-dedup ----
const ndMs: number[] = [];
const ndDocs = allDocs.slice(0, 5000);
for (let r = 0; r < REPS; r++) ndMs.push(time(() => findNearDuplicates(ndDocs, { unit: 'word', ngram: 5, bands: 16, rows: 8, threshold: 0.8, verify: 'exact', seed: 0 })).ms);
log(`  near-dedup (MinHash 128 perms, word 5-grams): ${ndDocs.length} docs in ${fmt(median(ndMs), 0)} ms`);

// ---- end to end through the engine: sources → mixer → trainer → evaluator ----
async function engineRun(): Promise<Record<string, number>> {
  const project = mkdtempSync(join(tmpdir(), 'forge-bench-corpus-e2e-'));
  try {
    writeFileSync(join(project, 'agent.jsonl'), agentDocs.map((text, i) => JSON.stringify({ id: `a${i}`, text })).join('\n'));
    writeFileSync(join(project, 'prose.jsonl'), proseDocs.map((text, i) => JSON.stringify({ id: `p${i}`, text })).join('\n'));
    const doc: GraphDocument = {
      format: GRAPH_FORMAT,
      version: GRAPH_VERSION,
      seed: 0,
      nodes: [
        { id: 'agent', type: 'source.jsonl', params: { path: 'agent.jsonl', idField: 'id' } },
        { id: 'prose', type: 'source.jsonl', params: { path: 'prose.jsonl', idField: 'id' } },
        { id: 'mix', type: 'transform.mixer', params: { names: { a: 'agent', b: 'general' }, agentShare: 0.3, totalTokens: 1_000_000, tokenizer: TOKENIZER } },
        { id: 'lm', type: 'train.ngram', params: { order: 3, tokenizer: TOKENIZER } },
        { id: 'eval', type: 'eval.lm-loss', params: { maxDocuments: 500 } },
      ],
      edges: [
        { from: { node: 'agent', port: 'out' }, to: { node: 'mix', port: 'a' } },
        { from: { node: 'prose', port: 'out' }, to: { node: 'mix', port: 'b' } },
        { from: { node: 'mix', port: 'out' }, to: { node: 'lm', port: 'train' } },
        { from: { node: 'lm', port: 'model' }, to: { node: 'eval', port: 'model' } },
        { from: { node: 'agent', port: 'out' }, to: { node: 'eval', port: 'benchmarks' } },
        { from: { node: 'prose', port: 'out' }, to: { node: 'eval', port: 'benchmarks' } },
      ],
    };
    const engine = Engine.open(project, defaultRegistry());
    try {
      const t0 = performance.now();
      const s = await engine.run(doc, { baseDir: project, trigger: 'bench' });
      const total = performance.now() - t0;
      if (s.status !== 'succeeded') throw new Error(`run ${s.status}: ${JSON.stringify(s.nodes.find((n) => n.error))}`);
      const t1 = performance.now();
      await engine.run(doc, { baseDir: project, trigger: 'bench' });
      const cached = performance.now() - t1;
      const by = Object.fromEntries(s.nodes.map((n) => [n.nodeId, n.durationMs]));
      return { ...by, total, cached };
    } finally {
      engine.close();
    }
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
}
const e2e: Record<string, number>[] = [];
for (let r = 0; r < REPS; r++) {
  e2e.push(await engineRun());
  log(
    `  engine run ${r + 1}: ${Object.entries(e2e[r] as Record<string, number>)
      .map(([k, v]) => `${k} ${fmt(v, 0)} ms`)
      .join(', ')}`,
  );
}
const med = (k: string) => median(e2e.map((x) => x[k] as number));
const mixInputTokens = tokens; // the mixer counts every token of both inputs
const trainTokens = 1_000_000;

const m = machine();
const rows: string[][] = [
  ['tokenize (MiniLM WordPiece via @huggingface/tokenizers)', `${fmt(tokens / (median(tokRuns) / 1000), 0)} tokens/s`, `${fmt(tokens, 0)} tokens, ${allDocs.length} docs`],
  ...trainRows.map((r) => {
    const total = median(r.countMs) + median(r.buildMs);
    return [
      `KN training, ${r.label} (ids in: count + build)`,
      `**${fmt(tokens / (total / 1000), 0)} tokens/s**`,
      `count ${fmt(median(r.countMs), 0)} ms + build ${fmt(median(r.buildMs), 0)} ms; n-grams ${r.ngrams.map((x) => fmt(x, 0)).join(' / ')}`,
    ];
  }),
  ['trigram scoring (evaluator inner loop, ids in)', `${fmt(scored / (median(scoreMs) / 1000), 0)} tokens/s`, `model load ${fmt(loadMs, 0)} ms`],
  ['mixer plan, 1M-token target (counts known)', `${fmt(median(planMs), 1)} ms`, `${planned} picks from ${allDocs.length} docs`],
  ['near-dedup, MinHash 16×8 + LSH + exact verify', `${fmt(ndDocs.length / (median(ndMs) / 1000), 0)} docs/s`, `${ndDocs.length} docs in ${fmt(median(ndMs), 0)} ms`],
  [
    '**engine** `transform.mixer` node (count all input tokens, plan, write 1M-token mix)',
    `**${fmt(mixInputTokens / (med('mix') / 1000), 0)} input tokens/s**`,
    `${fmt(med('mix'), 0)} ms for ${fmt(mixInputTokens, 0)} input tokens (worker start, DuckDB read and Parquet write included)`,
  ],
  ['**engine** `train.ngram` node, order 3, on the 1M-token mix', `**${fmt(trainTokens / (med('lm') / 1000), 0)} tokens/s**`, `${fmt(med('lm'), 0)} ms (tokenize + count + build + write model)`],
  ['**engine** `eval.lm-loss` node, 2 benchmarks × 500 docs', `${fmt(med('eval'), 0)} ms`, ''],
  ['engine run, 5 nodes cold / all cached', `${fmt(med('total'), 0)} ms / ${fmt(med('cached'), 0)} ms`, ''],
];
const body = `## Corpus nodes: n-gram training, mixer, evaluator, near-dedup

${machineLine(m, `median of ${REPS} repetitions; \`npm run bench:corpus-throughput\``)}

Real data: ${agentDocs.length} agent documents (BFCL items rendered with ground truth, Gorilla API docs) and
${proseDocs.length} Gutenberg paragraphs; ${fmt(tokens, 0)} MiniLM tokens in all. "ids in" rows time the pure
algorithms on pre-tokenized ids; **engine** rows time a node inside a real run (worker thread start,
DuckDB reads, tokenization, artifact writes).

${markdownTable(['what', 'throughput', 'detail'], rows)}
`;
log(body);
if (!flag('no-write')) writeSection('corpus', body);
