import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanupTempDirs, closeExecutor, graph, runGraph } from '../_sdk/testing/graph.js';
import { mulberry32 } from '../_sdk/rng.js';
import { candidateProbability, estimatedJaccard, jaccard, lshCandidates, lshThreshold, MinHasher, shingles } from './minhash.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

/** Two shingle sets with exactly `shared` common elements out of `size` each: J = shared / (2·size − shared). */
function plantedPair(size: number, shared: number, offset: number): [Uint32Array, Uint32Array] {
  const a = Array.from({ length: size }, (_, i) => offset + i);
  const b = [...a.slice(0, shared), ...Array.from({ length: size - shared }, (_, i) => offset + 1_000_000 + i)];
  return [Uint32Array.from(a).sort(), Uint32Array.from(b).sort()];
}

function words(rand: () => number, n: number): string[] {
  return Array.from({ length: n }, () => Math.floor(rand() * 2 ** 32).toString(36));
}

describe('MinHash', () => {
  it('estimates planted Jaccard similarities within 0.05 (256 permutations)', () => {
    const hasher = new MinHasher(256, 7);
    for (const [shared, expected] of [
      [190, 190 / 210],
      [150, 150 / 250],
      [100, 100 / 300],
      [40, 40 / 360],
    ] as const) {
      const [a, b] = plantedPair(200, shared, shared * 10_000);
      expect(jaccard(a, b)).toBeCloseTo(expected, 12);
      expect(Math.abs(estimatedJaccard(hasher.signature(a), hasher.signature(b)) - expected)).toBeLessThan(0.05);
    }
  });

  it('LSH makes near pairs candidates and leaves distant pairs out', () => {
    const hasher = new MinHasher(16 * 8, 1);
    expect(lshThreshold(16, 8)).toBeCloseTo(0.7071, 4);
    expect(candidateProbability(0.9, 16, 8)).toBeGreaterThan(0.999);
    expect(candidateProbability(0.3, 16, 8)).toBeLessThan(0.002);
    const sigs: Uint32Array[] = [];
    const expectPair: [number, number][] = [];
    for (let k = 0; k < 20; k++) {
      const [a, b] = plantedPair(150, k % 2 === 0 ? 145 : 60, k * 100_000);
      sigs.push(hasher.signature(a), hasher.signature(b));
      if (k % 2 === 0) expectPair.push([2 * k, 2 * k + 1]);
    }
    expect(lshCandidates(sigs, 16, 8)).toEqual(expectPair);
  });

  it('word 5-gram shingles: one replaced word in a 200-word text gives J = 191/201', () => {
    const base = words(mulberry32(3), 200);
    const edited = [...base];
    edited[100] = 'replacement';
    expect(shingles(base.join(' '), 'word', 5)).toHaveLength(196);
    expect(jaccard(shingles(base.join(' '), 'word', 5), shingles(edited.join(' '), 'word', 5))).toBeCloseTo(191 / 201, 12);
  });
});

describe('transform.dedup-near node', () => {
  it('finds planted near-duplicates at their expected Jaccard and outputs inspectable clusters', async () => {
    const rand = mulberry32(11);
    const docs = Array.from({ length: 150 }, (_, i) => ({ id: `d${String(i).padStart(3, '0')}`, text: words(rand, 200).join(' ') }));
    const edit = (text: string, positions: number[]) => {
      const w = text.split(' ');
      for (const p of positions) w[p] = `new${p}`;
      return w.join(' ');
    };
    const t = (i: number) => docs[i]?.text as string;
    docs.push({ id: 'near_of_d005', text: edit(t(5), [100]) }); // J = 191/201
    docs.push({ id: 'near2_of_d005', text: edit(t(5), [20, 150]) }); // J to d005 = 186/206
    docs.push({ id: 'copy_of_d040', text: t(40).toUpperCase() }); // J = 1 after lower-casing
    docs.push({
      id: 'far_of_d070',
      text: edit(
        t(70),
        Array.from({ length: 40 }, (_, k) => k * 5),
      ),
    }); // J well below 0.8
    const jsonl = docs.map((d) => JSON.stringify(d)).join('\n');
    const run = await runGraph(
      graph(
        [
          { id: 'src', type: 'source.jsonl', params: { path: 'd.jsonl', idField: 'id' } },
          { id: 'near', type: 'transform.dedup-near', params: { unit: 'word', ngram: 5, bands: 16, rows: 8, threshold: 0.8 } },
        ],
        [['src.out', 'near.in']],
      ),
      { files: { 'd.jsonl': jsonl } },
    );
    try {
      expect(run.outcome('near').error).toBeUndefined();
      const clusters = await run.rows('near', 'clusters');
      expect(clusters.map((r) => [r.cluster_id, r.id, r.is_representative, r.jaccard])).toEqual([
        ['d005', 'd005', true, 1],
        ['d005', 'near_of_d005', false, Number((191 / 201).toFixed(6))],
        ['d005', 'near2_of_d005', false, Number((186 / 206).toFixed(6))],
        ['d040', 'd040', true, 1],
        ['d040', 'copy_of_d040', false, 1],
      ]);
      const kept = await run.rows('near', 'out');
      expect(kept).toHaveLength(151);
      expect(kept.map((r) => r.id)).toContain('far_of_d070');
      const dropped = await run.rows('near', 'dropped');
      expect(dropped.map((r) => [r.id, r.duplicate_of])).toEqual([
        ['near_of_d005', 'd005'],
        ['near2_of_d005', 'd005'],
        ['copy_of_d040', 'd040'],
      ]);
      expect(run.artifact('near', 'out').manifest.meta).toMatchObject({ rows_in: 154, kept: 151, dropped: 3, clusters: 2, verified_pairs: 4 });
    } finally {
      run.close();
    }
  });
});
