import { join } from 'node:path';
import { OnnxGraph } from '../nodes/_sdk/onnx/graph.js';
import { createSession, ort } from '../nodes/_sdk/onnx/session.js';
import { Rng } from '../nodes/_sdk/rng.js';
import { rankQuality } from '../nodes/_sdk/vectors/rank-metrics.js';
import { DEFAULT_LEARNED, embedFeatures, Featurizer, trainLearned, type LearnedOptions } from '../nodes/_sdk/vectors/learned.js';
import { ensurePool, POOL_DIR, readJsonl, tfidfScores } from './lib/retrieval-pool.js';

/**
 * Fast iteration on the learned embedder (issue 10 item 2): trains it once on seeds + pool (no
 * labels), then scores mixes of its lexical and semantic parts on
 *  - the validation task used to choose settings: 20 % of the seeds held out as positives among the
 *    general (Gutenberg) texts, scored against the other 80 % (no pool labels involved), and
 *  - the labelled pool, beside TF-IDF, for reporting.
 * Usage: node bin/bench.mjs bench/learned-embedder-quick.ts ['{"semanticDim":64,...}'] [mix,mix,…]
 */

const opts: LearnedOptions = { ...DEFAULT_LEARNED, ...(JSON.parse(process.argv[3] ?? '{}') as Partial<LearnedOptions>) };
const mixes = (process.argv[4] ?? '0,0.1,0.2,0.3,0.4,0.5,0.7,1').split(',').map(Number);
const M = 3;

/** Q · Pᵀ through ONNX Runtime (row-major nq × np), in pool chunks. */
async function similarity(q: Float32Array, nq: number, p: Float32Array, np: number, d: number): Promise<Float32Array> {
  const g = new OnnxGraph('sim');
  const a = g.input('q', 'float32', ['nq', d]);
  const b = g.input('p', 'float32', ['np', d]);
  g.op('Gemm', [a, b], { transB: 1 }, 's');
  g.output('s', 'float32', ['nq', 'np']);
  const { session } = await createSession(g.encode(), { provider: 'cpu' });
  const out = new Float32Array(nq * np);
  const CH = 4096;
  for (let s = 0; s < np; s += CH) {
    const n = Math.min(CH, np - s);
    const r = await session.run({ q: new ort.Tensor('float32', q, [nq, d]), p: new ort.Tensor('float32', p.subarray(s * d, (s + n) * d), [n, d]) });
    const y = r.s!.data as Float32Array;
    for (let i = 0; i < nq; i++) out.set(y.subarray(i * n, (i + 1) * n), i * np + s);
  }
  await session.release();
  return out;
}

/** Mean of the M best of (1−mix)·lex + mix·sem over the queries, per candidate. */
function meanTop(lex: Float32Array, sem: Float32Array | undefined, nq: number, np: number, mix: number): Float64Array {
  const out = new Float64Array(np);
  const top = new Float64Array(M);
  for (let j = 0; j < np; j++) {
    top.fill(-Infinity);
    for (let i = 0; i < nq; i++) {
      const v = (1 - mix) * lex[i * np + j]! + (sem ? mix * sem[i * np + j]! : 0);
      if (v > top[M - 1]!) {
        let k = M - 1;
        while (k > 0 && top[k - 1]! < v) {
          top[k] = top[k - 1]!;
          k--;
        }
        top[k] = v;
      }
    }
    let s = 0;
    for (let k = 0; k < M; k++) s += top[k]!;
    out[j] = s / M;
  }
  return out;
}

ensurePool();
const pool = readJsonl(join(POOL_DIR, 'pool.jsonl'));
const seeds = readJsonl(join(POOL_DIR, 'seeds.jsonl'));
const general = readJsonl(join(POOL_DIR, 'general.jsonl'));
const labels = pool.map((r) => r.is_agent === true);
const rng = new Rng(11);
const heldOut = seeds.map(() => rng.next() < 0.2);
const trainSeeds = seeds.filter((_, i) => !heldOut[i]).map((r) => r.text);
const valTexts = [...seeds.filter((_, i) => heldOut[i]).map((r) => r.text), ...general.map((r) => r.text)];
const valLabels = [...seeds.filter((_, i) => heldOut[i]).map(() => true), ...general.map(() => false)];
// Positive–unlabelled proxy: the held-out seeds hidden in the (unlabelled, taken as negative) pool.
const puTexts = [...seeds.filter((_, i) => heldOut[i]).map((r) => r.text), ...pool.map((r) => r.text)];
const puLabels = [...seeds.filter((_, i) => heldOut[i]).map(() => true), ...pool.map(() => false)];

const t0 = performance.now();
const model = trainLearned([...seeds.map((r) => r.text), ...pool.map((r) => r.text)], { ...opts, mix: 0.5 }, { log: (m) => console.log(m) });
console.log(`trained in ${((performance.now() - t0) / 1000).toFixed(1)} s`, JSON.stringify(opts));
const feat = new Featurizer(model.vocab, model.oovBuckets);
const dl = model.lexicalDim;
const ds = model.semanticDim;
/** Splits each text's vector into its unit lexical and semantic parts. */
function parts(texts: readonly string[]): { lex: Float32Array; sem: Float32Array } {
  const lex = new Float32Array(texts.length * dl);
  const sem = new Float32Array(texts.length * ds);
  const s = Math.SQRT2;
  texts.forEach((t, i) => {
    const v = embedFeatures(model, feat.features(t));
    for (let j = 0; j < dl; j++) lex[i * dl + j] = v[j]! * s;
    for (let j = 0; j < ds; j++) sem[i * ds + j] = v[dl + j]! * s;
  });
  return { lex, sem };
}
const t1 = performance.now();
const Q = parts(seeds.map((r) => r.text));
const P = parts(pool.map((r) => r.text));
const TQ = parts(trainSeeds);
const VC = parts(valTexts);
const PU = parts(puTexts);
console.log(`embedded in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
const poolLex = await similarity(Q.lex, seeds.length, P.lex, pool.length, dl);
const poolSem = ds > 0 ? await similarity(Q.sem, seeds.length, P.sem, pool.length, ds) : undefined;
const valLex = await similarity(TQ.lex, trainSeeds.length, VC.lex, valTexts.length, dl);
const valSem = ds > 0 ? await similarity(TQ.sem, trainSeeds.length, VC.sem, valTexts.length, ds) : undefined;
const puLex = await similarity(TQ.lex, trainSeeds.length, PU.lex, puTexts.length, dl);
const puSem = ds > 0 ? await similarity(TQ.sem, trainSeeds.length, PU.sem, puTexts.length, ds) : undefined;
const fmt = (x: number) => x.toFixed(3);
const tf = rankQuality(
  tfidfScores(
    seeds.map((r) => r.text),
    pool.map((r) => r.text),
    M,
  ),
  labels,
);
const tfVal = rankQuality(tfidfScores(trainSeeds, valTexts, M), valLabels);
const tfPu = rankQuality(tfidfScores(trainSeeds, puTexts, M), puLabels);
console.log(
  `TF-IDF: validation AP ${fmt(tfVal.averagePrecision)} PU AP ${fmt(tfPu.averagePrecision)} | pool AP ${fmt(tf.averagePrecision)} R@P0.8 ${fmt(tf.recallAtP80)} R@P0.9 ${fmt(tf.recallAtP90)}`,
);
for (const mix of mixes) {
  const v = rankQuality(meanTop(valLex, valSem, trainSeeds.length, valTexts.length, mix), valLabels);
  const u = rankQuality(meanTop(puLex, puSem, trainSeeds.length, puTexts.length, mix), puLabels);
  const q = rankQuality(meanTop(poolLex, poolSem, seeds.length, pool.length, mix), labels);
  console.log(
    `mix ${mix}: validation AP ${fmt(v.averagePrecision)} R@P0.9 ${fmt(v.recallAtP90)} PU AP ${fmt(u.averagePrecision)} | pool AP ${fmt(q.averagePrecision)} R@P0.8 ${fmt(q.recallAtP80)} R@P0.9 ${fmt(q.recallAtP90)}`,
  );
}
