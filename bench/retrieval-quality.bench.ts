import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_HASHED } from '../nodes/_sdk/vectors/encoders.js';
import { DEFAULT_LEARNED, learnedDim, trainLearned } from '../nodes/_sdk/vectors/learned.js';
import { learnedToOnnx, runLearned } from '../nodes/_sdk/vectors/learned-onnx.js';
import { createSession } from '../nodes/_sdk/onnx/session.js';
import { trainFastText } from '../nodes/_sdk/fasttext/train.js';
import { bm25PoolScores, reciprocalRankFusion } from '../nodes/_sdk/text/lexical.js';
import { rankQuality, thresholdForTarget, type RankQuality } from '../nodes/_sdk/vectors/rank-metrics.js';
import { binaryMetrics, confusion } from '../nodes/_sdk/report.js';
import { Rng } from '../nodes/_sdk/rng.js';
import { fmt, markdownTable, writeSection } from './lib/report.js';
import { denseScores, embedHashed, ensurePool, POOL_DIR, readJsonl, tfidfScores } from './lib/retrieval-pool.js';

/**
 * Retrieval quality on a realistic labelled pool (issue 10): agent-like documents hidden among man
 * pages, Debian changelogs/READMEs and prose (built offline by bench/retrieval-quality-pool.py).
 * Every method scores every pool document against the same seeds; we report average precision,
 * recall at precision 0.8 / 0.9 and precision at the true-positive count, then the seeds-vs-general
 * classifier on its held-out split and on the pool, and the whole pipeline (retrieve at a threshold
 * picked on a validation split, then classifier filter).
 */

const HASHED = 'hashed n-gram embedder (old default), mean-top-3 cosine';
const TFIDF = 'TF-IDF cosine (baseline), mean-top-3';
const BM25 = 'BM25, seeds as queries, mean-top-3 (ml.bm25 default: per-seed self normalisation)';
const BM25_BEST = 'BM25, per-seed best-match normalisation (normalize: best)';
const HYBRID = 'hybrid RRF: BM25 + hashed embedder (ml.bm25 with dense input)';
const LEARNED = 'learned embedder (ml.embed-train defaults, trained on seeds + pool), mean-top-3 cosine';
const HYBRID_LEARNED = 'hybrid RRF: BM25 + learned embedder';

const LEARNED_NOTE =
  "How the learned embedder's settings were chosen: its defaults (mix 0.3; 768 lexical dims, 512 of them exact; 64 skipgram dims with char 3–5-grams; 3 epochs over at most 1 M tokens) were set before any pool figure was seen, except the 512 exact dims, added after 768 random-indexing dims alone scored below TF-IDF on the pool (they barely changed it). The validation split meant for tuning (a fifth of the seeds held out as positives among the Gutenberg general text, scored against the other seeds, no pool labels) cannot tell settings apart: average precision 1.000 for every mix from 0 to 1, and for TF-IDF. A positive-unlabelled proxy (the held-out seeds hidden in the unlabelled pool, counted as the only positives) gives 0.308 at mix 0, 0.312 at 0.3, 0.417 at 1 (TF-IDF 0.316). For sensitivity only (pool labels, not used to choose; `bench/learned-embedder-quick.ts`, 2026-12-02): mix 0.2, 0.3, 0.5, 0.7, 1 give AP 0.970, 0.972, 0.972, 0.972, 0.972 and R@P0.8 0.954, 0.952, 0.951, 0.947, 0.945; mix 0 (the lexical part alone: exact + random-indexing dims) gives 0.827 / 0.670, below TF-IDF, as did 768 random-indexing dims alone (0.820 / 0.682). So the gain over TF-IDF comes from the skipgram part, which learns what separates the pool's kinds of text (API references, schemas and traces vs man pages, changelogs and prose, formatting vocabulary included); a pool whose negatives look more like API docs would narrow it.";

/** Trains the learned embedder on seeds + pool and embeds both through its ONNX model (the ml.embed path). */
async function learnedScores(seedTexts: readonly string[], poolTexts: readonly string[], m: number): Promise<{ scores: Float64Array; note: string }> {
  const t = performance.now();
  const model = trainLearned([...seedTexts, ...poolTexts], DEFAULT_LEARNED, { log: (msg) => console.log(`  ${msg}`) });
  const trainS = (performance.now() - t) / 1000;
  const { bytes, padId } = learnedToOnnx(model);
  const { session } = await createSession(bytes, { provider: 'cpu' });
  try {
    const mf = { vocab: model.vocab, oovBuckets: model.oovBuckets, padId, lexicalDim: model.lexicalDim, semanticDim: model.semanticDim };
    const dim = learnedDim(model);
    const seedsV = await runLearned(session, mf, seedTexts, 256);
    const poolV = await runLearned(session, mf, poolTexts, 256);
    return {
      scores: await denseScores(seedsV, seedTexts.length, poolV, poolTexts.length, dim, m),
      note: `${dim} dims (${model.lexicalDim} lexical + ${model.semanticDim} skipgram, mix ${model.mix}), vocabulary ${model.vocab.length}; training ${fmt(trainS, 1)} s, ONNX ${fmt(bytes.length / 1e6, 0)} MB`,
    };
  } finally {
    await session.release();
  }
}

function qualityRow(name: string, q: RankQuality, seconds: number, note = ''): string[] {
  return [name, fmt(q.averagePrecision, 3), fmt(q.recallAtP80, 3), fmt(q.recallAtP90, 3), fmt(q.precisionAtR, 3), fmt(seconds, 1), note];
}

async function main(): Promise<void> {
  const t0 = performance.now();
  ensurePool();
  const pool = readJsonl(join(POOL_DIR, 'pool.jsonl'));
  const seeds = readJsonl(join(POOL_DIR, 'seeds.jsonl'));
  const general = readJsonl(join(POOL_DIR, 'general.jsonl'));
  const labels = pool.map((r) => r.is_agent === true);
  const poolTexts = pool.map((r) => r.text);
  const seedTexts = seeds.map((r) => r.text);
  const nAgent = labels.filter(Boolean).length;
  console.log(`pool ${pool.length} docs (${nAgent} agent), ${seeds.length} seeds, ${general.length} general`);
  const m = 3;
  const rows: string[][] = [];
  const scores: Record<string, Float64Array> = {};
  const timed = async (name: string, f: () => Float64Array | Promise<Float64Array>, note = '') => {
    const t = performance.now();
    scores[name] = await f();
    const s = (performance.now() - t) / 1000;
    const q = rankQuality(scores[name], labels);
    rows.push(qualityRow(name, q, s, note));
    console.log(`${name}: AP ${q.averagePrecision.toFixed(3)}, R@P0.8 ${q.recallAtP80.toFixed(3)}, R@P0.9 ${q.recallAtP90.toFixed(3)}, P@R ${q.precisionAtR.toFixed(3)} (${s.toFixed(1)} s)`);
  };

  await timed(HASHED, async () => {
    const dim = DEFAULT_HASHED.dim;
    return denseScores(await embedHashed(seedTexts), seeds.length, await embedHashed(poolTexts), pool.length, dim, m);
  });
  await timed(TFIDF, () => tfidfScores(seedTexts, poolTexts, m));
  await timed(BM25, () => bm25PoolScores(seedTexts, poolTexts, { m }));
  await timed(BM25_BEST, () => bm25PoolScores(seedTexts, poolTexts, { m, normalize: 'best' }));
  await timed(HYBRID, () => reciprocalRankFusion([scores[BM25]!, scores[HASHED]!]));
  await timed('hybrid RRF: BM25 + TF-IDF', () => reciprocalRankFusion([scores[BM25]!, scores[TFIDF]!]));
  let learnedNote = '';
  await timed(LEARNED, async () => {
    const r = await learnedScores(seedTexts, poolTexts, m);
    learnedNote = r.note;
    return r.scores;
  });
  rows[rows.length - 1]![6] = learnedNote;
  await timed(HYBRID_LEARNED, () => reciprocalRankFusion([scores[BM25]!, scores[LEARNED]!]));

  // Classifier: seeds (positive) vs general prose (negative), 10 % of each held out, as the example trains it.
  const rng = new Rng(7);
  const all = [...seeds.map((r) => ({ text: r.text, label: 'agent' })), ...general.map((r) => ({ text: r.text, label: 'general' }))];
  const held = all.map(() => rng.next() < 0.1);
  const train = all.filter((_, i) => !held[i]);
  const { model } = await trainFastText(train, {
    dim: 100,
    epoch: 5,
    lr: 0.1,
    wordNgrams: 2,
    bucket: 200_000,
    minn: 0,
    maxn: 0,
    minCount: 1,
    loss: 'softmax',
    threads: 1,
    seed: 17,
    preprocess: 'lower-punct',
  });
  const agentIdx = model.labels.indexOf('__label__agent');
  const prob = (t: string) => model.probabilities(model.features(t))[agentIdx]!;
  const heldRows = all.filter((_, i) => held[i]);
  const hm = binaryMetrics(
    confusion(
      heldRows.map((r) => r.label === 'agent'),
      heldRows.map((r) => prob(r.text) >= 0.5),
    ),
  );
  const poolProb = Float64Array.from(poolTexts, prob);
  const pm = binaryMetrics(
    confusion(
      labels,
      Array.from(poolProb, (p) => p >= 0.5),
    ),
  );
  const clsRows = [
    ['held-out split (seeds vs prose)', String(heldRows.length), fmt(hm.accuracy, 3), fmt(hm.precision, 3), fmt(hm.recall, 3), fmt(hm.f1, 3)],
    ['evaluation pool', String(pool.length), fmt(pm.accuracy, 3), fmt(pm.precision, 3), fmt(pm.recall, 3), fmt(pm.f1, 3)],
  ];
  console.log(`classifier held-out F1 ${hm.f1.toFixed(3)}, pool F1 ${pm.f1.toFixed(3)}`);

  // Whole pipeline: the default retriever (hybrid BM25 + dense) keeps the documents above a threshold
  // chosen for precision ≥ 0.8 on a labelled validation half of the pool; the classifier then filters
  // at 0.5. Reported on the other half, which chose nothing.
  const half = pool.map(() => rng.next() < 0.5);
  const pipeRows: string[][] = [];
  for (const name of [BM25, HYBRID, LEARNED, HYBRID_LEARNED, TFIDF]) {
    const s = scores[name]!;
    const val = (a: ArrayLike<number> | boolean[]) => Array.from(a as ArrayLike<number>).filter((_, i) => half[i]);
    const chosen = thresholdForTarget(
      val(s),
      labels.filter((_, i) => half[i]),
      { metric: 'precision', value: 0.8 },
    );
    const t = chosen?.threshold ?? Infinity;
    const testIdx = pool.map((_, i) => i).filter((i) => !half[i]);
    const retrieved = testIdx.map((i) => s[i]! >= t);
    const r = binaryMetrics(
      confusion(
        testIdx.map((i) => labels[i]!),
        retrieved,
      ),
    );
    const f = binaryMetrics(
      confusion(
        testIdx.map((i) => labels[i]!),
        testIdx.map((i, j) => retrieved[j]! && poolProb[i]! >= 0.5),
      ),
    );
    pipeRows.push([name, chosen ? fmt(chosen.threshold, 4) : 'none', fmt(r.precision, 3), fmt(r.recall, 3), fmt(f.precision, 3), fmt(f.recall, 3)]);
  }

  const verdict = (() => {
    const d = rankQuality(scores[BM25]!, labels);
    const t = rankQuality(scores[TFIDF]!, labels);
    const met = d.averagePrecision >= 0.6 && d.recallAtP80 >= 0.6 && d.averagePrecision > t.averagePrecision;
    const l = rankQuality(scores[LEARNED]!, labels);
    const lMet = l.averagePrecision > t.averagePrecision && l.recallAtP80 > t.recallAtP80;
    return [
      `Issue 10 target (default retriever, no downloaded weights: AP ≥ 0.6, recall ≥ 0.6 at precision ≥ 0.8, above TF-IDF in the same run): ${met ? 'met' : 'NOT met'} by BM25 (AP ${fmt(d.averagePrecision, 3)}, R@P0.8 ${fmt(d.recallAtP80, 3)}) vs TF-IDF (AP ${fmt(t.averagePrecision, 3)}, R@P0.8 ${fmt(t.recallAtP80, 3)}).`,
      `Learned default embedder (issue 10 item 2, must beat TF-IDF on AP and R@P0.8): ${lMet ? 'met' : 'NOT met'} (AP ${fmt(l.averagePrecision, 3)}, R@P0.8 ${fmt(l.recallAtP80, 3)}). How its settings were chosen: next paragraph.`,
    ].join('\n\n');
  })();
  const total = (performance.now() - t0) / 1000;
  const summary = JSON.parse(readFileSync(join(POOL_DIR, 'summary.json'), 'utf8')) as { by_source: Record<string, number> };
  const md = [
    '## Retrieval quality on a realistic pool (issue 10)',
    '',
    `Measured ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} (1-min load ${loadavg()[0]!.toFixed(2)}); bench took ${fmt(total / 60, 1)} min. Rerun: \`npm run bench:retrieval-quality\` (builds the pool into bench/out/retrieval-pool on first run with bench/retrieval-quality-pool.py).`,
    '',
    `Pool: ${pool.length} documents, ${nAgent} of them agent-like; rows per source: ${Object.entries(summary.by_source)
      .map(([k, v]) => `${k} ${v}`)
      .join(
        ', ',
      )}. Seeds: ${seeds.length} (BFCL simple_python + multiple, the bundled Gorilla records; none in the pool); general text for the classifier: ${general.length} Gutenberg paragraphs not in the pool.`,
    '',
    'Retrieval, pool mode (every pool document scored against all seeds):',
    '',
    markdownTable(['method', 'average precision', 'recall @ precision ≥ 0.8', 'recall @ precision ≥ 0.9', 'precision @ #positives', 'seconds', 'note'], rows),
    '',
    verdict,
    '',
    LEARNED_NOTE,
    '',
    'Classifier (fastText-style, seeds vs general prose, dim 100, 5 epochs, word bigrams), threshold 0.5:',
    '',
    markdownTable(['evaluated on', 'rows', 'accuracy', 'precision', 'recall', 'F1'], clsRows),
    '',
    'Whole pipeline, retrieve → classifier filter: threshold for precision ≥ 0.8 picked on a labelled half of the pool, figures on the other half:',
    '',
    markdownTable(['retriever', 'threshold', 'retrieved precision', 'retrieved recall', 'after classifier precision', 'after classifier recall'], pipeRows),
  ].join('\n');
  writeSection('retrieval-quality', md);
  console.log(md);
}

await main();
