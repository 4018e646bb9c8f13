import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { estimatePoolMetrics, disagree } from '../../engine/sdk/label-metrics.js';
import { labelsFilePath, writeLabelsFile } from '../../engine/sdk/labels-file.js';
import { cleanupTempDirs, makeDataset, readDataset, refOf, runNode, tempDir } from '../_sdk/testing/harness.js';
import labelSample from './index.js';
import { allocate, drawSample, stratify } from './stratify.js';

afterAll(cleanupTempDirs);

// A pool of 100: the filter kept 20 (15 truly agent), rejected 80 (10 truly agent). Pool precision 0.75, recall 0.6.
const KEPT = Array.from({ length: 20 }, (_, i) => ({ id: `k${i}`, text: `kept doc ${i}`, source: 'pool', score: 0.99 - i * 0.01, agent: i < 15 }));
const REJECTED = Array.from({ length: 80 }, (_, i) => ({ id: `r${i}`, text: `rejected doc ${i}`, source: 'pool', score: 0.5 - i * 0.005, agent: i % 8 === 0 }));
const TRUTH = new Map([...KEPT, ...REJECTED].map((d) => [d.id, d.agent]));
const strip = (rows: typeof KEPT) => rows.map(({ agent: _agent, ...r }) => r);

const json = (dir: string, f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;

async function pool() {
  return { kept: await makeDataset(strip(KEPT)), rejected: await makeDataset(strip(REJECTED)) };
}

describe('stratified sampling', () => {
  it('allocates equally, hands what small strata cannot take to the others', () => {
    expect(allocate([5, 100, 100], 30)).toEqual([5, 13, 12]);
    expect(allocate([3, 4], 100)).toEqual([3, 4]);
    expect(allocate([10, 10, 10, 10], 8)).toEqual([2, 2, 2, 2]);
  });

  it('is seeded, independent of input order, and covers every stratum', () => {
    const docs = [...KEPT.map((d) => ({ id: d.id, score: d.score, side: 'kept' as const })), ...REJECTED.map((d) => ({ id: d.id, score: d.score, side: 'rejected' as const }))];
    const a = drawSample(stratify(docs, 4), 16, 7);
    const b = drawSample(stratify([...docs].reverse(), 4), 16, 7);
    const c = drawSample(stratify(docs, 4), 16, 8);
    expect(a.map((r) => r.id)).toEqual(b.map((r) => r.id));
    expect(a.map((r) => r.id)).not.toEqual(c.map((r) => r.id));
    // 8 strata (4 per side) of 5 kept / 20 rejected documents, 2 sampled from each.
    const per = new Map<string, number>();
    for (const r of a) per.set(r.stratum, (per.get(r.stratum) ?? 0) + 1);
    expect([...per.values()]).toEqual([2, 2, 2, 2, 2, 2, 2, 2]);
    expect(a.find((r) => r.stratum === 'kept:1')!.stratumSize).toBe(5);
    expect(a.find((r) => r.stratum === 'rejected:4')!.stratumSize).toBe(20);
    // The top kept band holds the 5 highest scores.
    for (const r of a.filter((x) => x.stratum === 'kept:1')) expect(r.score).toBeGreaterThanOrEqual(0.95);
  });
});

describe('pool estimate', () => {
  it('weights each labelled document by stratum size / labelled in the stratum', () => {
    // Kept: one stratum of 10, 2 labelled (1 agent). Rejected: one stratum of 90, 3 labelled (1 agent).
    const est = estimatePoolMetrics([
      { side: 'kept', stratum: 'k', stratumSize: 10, label: true },
      { side: 'kept', stratum: 'k', stratumSize: 10, label: false },
      { side: 'kept', stratum: 'k', stratumSize: 10, label: null },
      { side: 'rejected', stratum: 'r', stratumSize: 90, label: true },
      { side: 'rejected', stratum: 'r', stratumSize: 90, label: false },
      { side: 'rejected', stratum: 'r', stratumSize: 90, label: false },
    ]);
    expect(est.labelled).toBe(5);
    expect(est.truePositives).toBe(5);
    expect(est.falsePositives).toBe(5);
    expect(est.falseNegatives).toBe(30);
    expect(est.precision).toBe(0.5);
    expect(est.recall).toBeCloseTo(5 / 35, 12);
    expect(est.precisionLow).toBeLessThan(0.5);
    expect(est.precisionHigh).toBeGreaterThan(0.5);
    expect(est.recallLow).toBeLessThan(5 / 35);
  });

  it('disagreement means non-overlapping intervals', () => {
    expect(disagree({ value: 0.5, low: 0.4, high: 0.6 }, { value: 0.98 })).toBe(true);
    expect(disagree({ value: 0.5, low: 0.4, high: 0.6 }, { value: 0.7, low: 0.55, high: 0.8 })).toBe(false);
    expect(disagree({ value: NaN }, { value: 0.9 })).toBe(false);
  });
});

describe('ml.label-sample node', () => {
  it('samples, starts unlabelled, then reads the labels file of its sample and estimates P / R on the pool', async () => {
    const baseDir = tempDir('forge-labels-');
    const inputs = await pool();
    const first = await runNode(labelSample, { inputs, params: { sampleSize: 100 }, baseDir });
    const rows = await readDataset(first.outputs.labels!);
    expect(rows).toHaveLength(100);
    expect(Object.keys(rows[0]!)).toEqual(['position', 'id', 'text', 'score', 'side', 'stratum', 'stratum_size', 'stratum_sample', 'label']);
    expect(rows.every((r) => r.label === null)).toBe(true);
    expect(rows.find((r) => r.id === 'k3')).toMatchObject({ text: 'kept doc 3', side: 'kept' });
    const meta = first.outputs.labels!.manifest.meta;
    const m0 = json(first.outputs.metrics!.dir, 'metrics.json');
    expect(m0).toMatchObject({ pool_kept: 20, pool_rejected: 80, sampled: 100, labelled: 0, precision: 'n/a' });
    expect(String(m0.note)).toMatch(/no labels yet/);
    const file = labelsFilePath(baseDir, 'n', String(meta.sampleHash));
    expect(meta.labelsFile).toBe(`labels/n/${String(meta.sampleHash)}.json`);
    expect(existsSync(file)).toBe(false);
    // The labels files are the node's input files: the engine hashes them into its cache key.
    expect(await labelSample.inputFiles!({}, baseDir, { id: 'n' })).toEqual([]);

    // Everything labelled with the truth and every document sampled (weights 1): the estimate is exact.
    writeLabelsFile(file, { node: 'n', sample: String(meta.sampleHash), labels: Object.fromEntries(rows.map((r) => [String(r.id), TRUTH.get(String(r.id))!])) });
    expect(await labelSample.inputFiles!({}, baseDir, { id: 'n' })).toEqual([file]);
    const second = await runNode(labelSample, { inputs, params: { sampleSize: 100 }, baseDir });
    expect(second.outputs.labels!.manifest.meta.sampleHash).toBe(meta.sampleHash);
    const labelled = await readDataset(second.outputs.labels!);
    expect(labelled.find((r) => r.id === 'k0')!.label).toBe(true);
    expect(labelled.find((r) => r.id === 'k19')!.label).toBe(false);
    const m = json(second.outputs.metrics!.dir, 'metrics.json');
    expect(m.labelled).toBe(100);
    expect(m.precision).toBeCloseTo(0.75, 12);
    expect(m.recall).toBeCloseTo(0.6, 12);
    expect(Number(m.precision_ci_low)).toBeLessThan(0.75);
    expect(Number(m.recall_ci_high)).toBeGreaterThan(0.6);
    expect(m.note).toBeUndefined();
  });

  it('a partial labelling of a small sample is weighted back to the pool', async () => {
    const baseDir = tempDir('forge-labels-');
    const inputs = await pool();
    const run = await runNode(labelSample, { inputs, params: { sampleSize: 16, strataPerSide: 1 }, baseDir });
    const rows = await readDataset(run.outputs.labels!);
    // One stratum per side: 8 of 20 kept, 8 of 80 rejected.
    expect(rows.filter((r) => r.side === 'kept')).toHaveLength(8);
    const sampleHash = String(run.outputs.labels!.manifest.meta.sampleHash);
    const labels = Object.fromEntries(rows.map((r) => [String(r.id), TRUTH.get(String(r.id))!]));
    writeLabelsFile(labelsFilePath(baseDir, 'n', sampleHash), { node: 'n', sample: sampleHash, labels });
    const again = await runNode(labelSample, { inputs, params: { sampleSize: 16, strataPerSide: 1 }, baseDir });
    const m = json(again.outputs.metrics!.dir, 'metrics.json');
    const keptAgent = rows.filter((r) => r.side === 'kept' && labels[String(r.id)]).length;
    const rejAgent = rows.filter((r) => r.side === 'rejected' && labels[String(r.id)]).length;
    // Each kept label stands for 20/8 documents, each rejected one for 80/8.
    expect(m.precision).toBeCloseTo(keptAgent / 8, 12);
    expect(m.recall).toBeCloseTo((keptAgent * 20) / 8 / ((keptAgent * 20) / 8 + (rejAgent * 80) / 8), 12);
  });

  it('warns when held-out metrics disagree beyond the intervals', async () => {
    const baseDir = tempDir('forge-labels-');
    const inputs = await pool();
    const first = await runNode(labelSample, { inputs, params: { sampleSize: 100 }, baseDir });
    const sampleHash = String(first.outputs.labels!.manifest.meta.sampleHash);
    writeLabelsFile(labelsFilePath(baseDir, 'n', sampleHash), { node: 'n', sample: sampleHash, labels: Object.fromEntries([...TRUTH].map(([id, a]) => [id, a])) });
    // Held-out figures as a classifier on a seeds-vs-prose split reports them: near perfect.
    const perfect = tempDir('forge-held-metrics-');
    writeFileSync(join(perfect, 'metrics.json'), JSON.stringify({ precision: 0.99, recall: 0.98 }));
    const run = await runNode(labelSample, { inputs: { ...inputs, heldOut: refOf('metrics', perfect) }, params: { sampleSize: 100 }, baseDir });
    const m = json(run.outputs.metrics!.dir, 'metrics.json');
    expect(m.held_out_precision).toBe(0.99);
    expect(String(m.warning)).toMatch(/disagree.*precision 0\.750.*recall 0\.600/);
    expect(run.logs.some((l) => l.level === 'warn' && /disagree/.test(l.message))).toBe(true);
    // Held-out figures inside the intervals: no warning.
    writeFileSync(join(perfect, 'metrics.json'), JSON.stringify({ precision: 0.74, recall: 0.62 }));
    const agree = await runNode(labelSample, { inputs: { ...inputs, heldOut: refOf('metrics', perfect) }, params: { sampleSize: 100 }, baseDir });
    expect(json(agree.outputs.metrics!.dir, 'metrics.json').warning).toBeUndefined();
  });

  it('fails clearly on bad input and bad labels files', async () => {
    const baseDir = tempDir('forge-labels-');
    const inputs = await pool();
    await expect(runNode(labelSample, { inputs, params: { scoreColumn: 'nope' }, baseDir })).rejects.toThrow(/input "kept" has no column "nope"/);
    await expect(runNode(labelSample, { inputs, params: { scoreColumn: 'text' }, baseDir })).rejects.toThrow(/"text" is VARCHAR, not a number/);
    await expect(runNode(labelSample, { inputs: { kept: inputs.kept, rejected: inputs.kept }, baseDir })).rejects.toThrow(/document id "k0" appears twice/);
    const run = await runNode(labelSample, { inputs, params: { sampleSize: 5 }, baseDir });
    const file = join(baseDir, String(run.outputs.labels!.manifest.meta.labelsFile));
    mkdirSync(join(baseDir, 'labels', 'n'), { recursive: true });
    writeFileSync(file, JSON.stringify({ format: 'forge.labels', version: 1, node: 'n', sample: String(run.outputs.labels!.manifest.meta.sampleHash), labels: { k1: 'yes' } }));
    await expect(runNode(labelSample, { inputs, params: { sampleSize: 5 }, baseDir })).rejects.toThrow(/field labels\.k1: .*expected boolean/);
  });
});

describe('the bundled labelled pool', () => {
  it('has one row per id, so every document of it can be labelled (labels are kept by id)', () => {
    const file = new URL('../../resources/data/labelled-pool/pool-small.jsonl', import.meta.url);
    const ids = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids.length).toBeGreaterThan(2000);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });
});
