import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, makeDataset, readDataset, runNode } from '../_sdk/testing/harness.js';
import threshold from './index.js';

afterAll(cleanupTempDirs);

// 8 rows: scores and true classes chosen so every metric is a simple fraction.
const ROWS = [
  { id: 1, text: 'a', source: 'agent', score: 0.95 },
  { id: 2, text: 'b', source: 'agent', score: 0.9 },
  { id: 3, text: 'c', source: 'prose', score: 0.8 },
  { id: 4, text: 'd', source: 'agent', score: 0.7 },
  { id: 5, text: 'e', source: 'prose', score: 0.4 },
  { id: 6, text: 'f', source: 'agent', score: 0.3 },
  { id: 7, text: 'g', source: 'prose', score: 0.2 },
  { id: 8, text: 'h', source: 'prose', score: null },
];

const json = (dir: string, f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;

describe('threshold node', () => {
  it('keeps and rejects, with precision / recall / F1 / AP on labelled rows', async () => {
    const run = await runNode(threshold, { inputs: { in: await makeDataset(ROWS) }, params: { threshold: 0.6, labelColumn: 'source', positiveValue: 'agent' } });
    expect((await readDataset(run.outputs.kept!)).map((r) => r.id)).toEqual([1, 2, 3, 4]);
    expect((await readDataset(run.outputs.rejected!)).map((r) => r.id)).toEqual([5, 6, 7, 8]);
    const m = json(run.outputs.metrics!.dir, 'metrics.json');
    // kept: 3 agent + 1 prose; rejected: 1 agent + 3 prose.
    expect(m).toMatchObject({
      rows_in: 8,
      kept: 4,
      rejected: 4,
      true_positives: 3,
      false_positives: 1,
      false_negatives: 1,
      true_negatives: 3,
      accuracy: 0.75,
      precision: 0.75,
      recall: 0.75,
      f1: 0.75,
    });
    // AP over the ranking a a p a p a p: (1/1 + 2/2 + 3/4 + 4/6) / 4.
    expect(m.average_precision).toBeCloseTo((1 + 1 + 0.75 + 4 / 6) / 4, 10);
    expect(run.outputs.metrics!.manifest.meta.precision).toBe(0.75);
    const chart = json(run.outputs.chart!.dir, 'chart.json') as { $schema: string; layer: { data: { values: { recall: number; precision: number }[] } }[] };
    expect(chart.$schema).toBe('https://vega.github.io/schema/vega-lite/v6.json');
    // Chart artifacts of every node carry a rendering (the shared writeChart), so the CLI and the report can show it.
    expect(readFileSync(join(run.outputs.chart!.dir, 'chart.svg'), 'utf8')).toMatch(/^<svg[^>]*>[^]*Precision-recall/);
    expect(run.outputs.chart!.manifest.meta).toMatchObject({ format: 'vega-lite@6', chart: 'precision-recall' });
    expect(chart.layer[0]!.data.values.map((p) => [p.recall, p.precision])).toEqual([
      [0.25, 1],
      [0.5, 1],
      [0.5, 0.666667],
      [0.75, 0.75],
      [0.75, 0.6],
      [1, 0.666667],
      [1, 0.571429],
    ]);
    expect(chart.layer[1]!.data.values[0]).toMatchObject({ recall: 0.75, precision: 0.75 });
  });

  it('writes kept and rejected one shard per input shard, in input order', async () => {
    const run = await runNode(threshold, { inputs: { in: await makeDataset(ROWS, { shards: 3 }) }, params: { threshold: 0.6 } });
    const shards = (port: string) => run.outputs[port]!.manifest.files.filter((f) => f.path.startsWith('shards/') && f.path.endsWith('.parquet')).length;
    expect(shards('kept')).toBe(3);
    expect(shards('rejected')).toBe(3);
    expect((await readDataset(run.outputs.kept!)).map((r) => r.id)).toEqual([1, 2, 3, 4]);
    expect((await readDataset(run.outputs.rejected!)).map((r) => r.id)).toEqual([5, 6, 7, 8]);
    expect(run.logs.map((l) => l.message)).toContain('shards: 3 of 3 executed');
  });

  it('keeps below a threshold, and draws a histogram without labels', async () => {
    const run = await runNode(threshold, { inputs: { in: await makeDataset(ROWS) }, params: { threshold: 0.5, keep: 'below' } });
    expect((await readDataset(run.outputs.kept!)).map((r) => r.id)).toEqual([5, 6, 7]);
    expect(json(run.outputs.metrics!.dir, 'metrics.json')).toEqual({
      rows_in: 8,
      kept: 3,
      rejected: 5,
      kept_fraction: 0.375,
      threshold: 0.5,
      threshold_reason: 'fixed threshold (params.threshold)',
      threshold_source: 'fixed',
      keep: 'below',
    });
    const chart = json(run.outputs.chart!.dir, 'chart.json') as { layer: { mark: unknown; data: { values: { count?: number }[] } }[] };
    expect(chart.layer[0]!.mark).toBe('bar');
    expect(chart.layer[0]!.data.values.reduce((s, b) => s + (b.count ?? 0), 0)).toBe(7);
  });

  it('boolean labels, and clear errors', async () => {
    const rows = ROWS.map((r) => ({ ...r, is_agent: r.source === 'agent' }));
    const run = await runNode(threshold, { inputs: { in: await makeDataset(rows) }, params: { threshold: 0.6, labelColumn: 'is_agent' } });
    expect(run.outputs.metrics!.manifest.meta.f1).toBe(0.75);
    const ds = await makeDataset(ROWS);
    await expect(runNode(threshold, { inputs: { in: ds }, params: { scoreColumn: 'nope' } })).rejects.toThrow(/no column "nope"/);
    await expect(runNode(threshold, { inputs: { in: ds }, params: { scoreColumn: 'text' } })).rejects.toThrow(/is VARCHAR, not a number/);
    await expect(runNode(threshold, { inputs: { in: ds }, params: { labelColumn: 'source' } })).rejects.toThrow(/give the positive value/);
  });

  it('picks the threshold for a target precision from the labelled rows, and says why', async () => {
    // Ranking a a p a p a p: precision ≥ 0.75 holds down to score 0.7 (3 of 4), not below (3 of 5 at 0.4).
    const run = await runNode(threshold, {
      inputs: { in: await makeDataset(ROWS) },
      params: { threshold: 0.99, target: { metric: 'precision', value: 0.75 }, labelColumn: 'source', positiveValue: 'agent' },
    });
    expect((await readDataset(run.outputs.kept!)).map((r) => r.id)).toEqual([1, 2, 3, 4]);
    const m = json(run.outputs.metrics!.dir, 'metrics.json');
    expect(m.threshold).toBe(0.7);
    expect(String(m.threshold_reason)).toMatch(/precision ≥ 0.75/);
  });

  it('picks the most precise threshold that still reaches a target recall', async () => {
    const run = await runNode(threshold, { inputs: { in: await makeDataset(ROWS) }, params: { target: { metric: 'recall', value: 0.5 }, labelColumn: 'source', positiveValue: 'agent' } });
    expect((await readDataset(run.outputs.kept!)).map((r) => r.id)).toEqual([1, 2]);
    expect(json(run.outputs.metrics!.dir, 'metrics.json')).toMatchObject({ threshold: 0.9, precision: 1, recall: 0.5 });
  });

  it('fails clearly when no threshold reaches the target', async () => {
    const rows = ROWS.map((r) => ({ ...r, source: r.id === 8 ? 'agent' : r.source }));
    await expect(
      runNode(threshold, { inputs: { in: await makeDataset(rows.filter((r) => r.id >= 5)) }, params: { target: { metric: 'precision', value: 0.99 }, labelColumn: 'source', positiveValue: 'agent' } }),
    ).rejects.toThrow(/no threshold reaches precision ≥ 0.99/);
  });

  it('reports Wilson intervals and warns when held-out metrics fall outside them', async () => {
    const held = await runNode(threshold, { inputs: { in: await makeDataset(ROWS) }, params: { threshold: 0.95, labelColumn: 'source', positiveValue: 'agent' } });
    // The "held-out" run keeps only row 1: precision 1, recall 0.25.
    const run = await runNode(threshold, { inputs: { in: await makeDataset(ROWS), heldOut: held.outputs.metrics! }, params: { threshold: 0.6, labelColumn: 'source', positiveValue: 'agent' } });
    const m = json(run.outputs.metrics!.dir, 'metrics.json');
    expect(Number(m.precision_ci_low)).toBeLessThan(0.75);
    expect(Number(m.precision_ci_high)).toBeGreaterThan(0.75);
    expect(m.held_out_recall).toBe(0.25);
    // Recall 3 of 4: the Wilson interval is about [0.30, 0.95], so a held-out recall of 0.25 lies outside it.
    expect(Number(m.recall_ci_low)).toBeGreaterThan(0.25);
    expect(String(m.warning)).toMatch(/disagree.*recall 0.750/);
    const agree = await runNode(threshold, { inputs: { in: await makeDataset(ROWS), heldOut: run.outputs.metrics! }, params: { threshold: 0.6, labelColumn: 'source', positiveValue: 'agent' } });
    expect(json(agree.outputs.metrics!.dir, 'metrics.json').warning).toBeUndefined();
  });

  // Validation rows as the example builds them: held-out seeds (agent) and general text (prose), scored like the pool.
  const VALIDATION = [
    { id: 'v1', text: 'held-out seed', is_agent: true, score: 0.92 },
    { id: 'v2', text: 'held-out seed', is_agent: true, score: 0.85 },
    { id: 'v3', text: 'held-out seed', is_agent: true, score: 0.75 },
    { id: 'v4', text: 'held-out seed', is_agent: true, score: 0.35 },
    { id: 'v5', text: 'general text', is_agent: false, score: 0.5 },
    { id: 'v6', text: 'general text', is_agent: false, score: 0.25 },
    { id: 'v7', text: 'general text', is_agent: false, score: 0.1 },
  ];

  it('picks the threshold on validation rows and applies it to an unlabelled input', async () => {
    const unlabelled = ROWS.map(({ id, text, score }) => ({ id, text, score }));
    const run = await runNode(threshold, {
      inputs: { in: await makeDataset(unlabelled), validation: await makeDataset(VALIDATION) },
      params: { threshold: 0.99, target: { metric: 'recall', value: 0.75 }, labelColumn: 'is_agent' },
    });
    // Recall ≥ 0.75 of the 4 validation seeds first holds at 0.75 (v1–v3); on the input that keeps scores ≥ 0.75.
    expect((await readDataset(run.outputs.kept!)).map((r) => r.id)).toEqual([1, 2, 3]);
    const m = json(run.outputs.metrics!.dir, 'metrics.json');
    expect(m).toMatchObject({ threshold: 0.75, threshold_source: 'validation', kept: 3 });
    expect(String(m.threshold_reason)).toMatch(/recall ≥ 0.75 on 7 validation rows \(4 positive\): precision there 1.000/);
    // The input has no labels, so no precision / recall is claimed for it.
    expect(m.precision).toBeUndefined();
  });

  it('with validation rows and a labelled input, picks on the validation rows and reports on the input', async () => {
    const run = await runNode(threshold, {
      inputs: { in: await makeDataset(ROWS.map((r) => ({ ...r, is_agent: r.source === 'agent' }))), validation: await makeDataset(VALIDATION) },
      params: { target: { metric: 'precision', value: 0.8 }, labelColumn: 'is_agent' },
    });
    const m = json(run.outputs.metrics!.dir, 'metrics.json');
    // On the validation rows precision ≥ 0.8 holds down to 0.35 (4 of 5), picked there; on the input (a a p a p a p) that keeps rows 1-6.
    expect(m.threshold).toBe(0.35);
    expect(String(m.threshold_reason)).toMatch(/precision ≥ 0.8 on 7 validation rows .*carries over only if/);
    expect(m).toMatchObject({ kept: 5, true_positives: 3, false_positives: 2, precision: 0.6, recall: 0.75 });
    // Picked on the input's own labels instead, the threshold would differ: the validation rows decided.
    const own = await runNode(threshold, {
      inputs: { in: await makeDataset(ROWS.map((r) => ({ ...r, is_agent: r.source === 'agent' }))) },
      params: { target: { metric: 'precision', value: 0.8 }, labelColumn: 'is_agent' },
    });
    expect(json(own.outputs.metrics!.dir, 'metrics.json')).toMatchObject({ threshold: 0.9, threshold_source: 'labels' });
    // Validation recall 1 (4 of 4 seeds, interval about [0.51, 1]) vs 3 of 4 here ([0.30, 0.95]): the intervals overlap, so no warning.
    expect(m.validation_recall).toBe(1);
    expect(m.warning).toBeUndefined();
  });

  it('warns when the labelled input does not reach the recall the validation rows promised', async () => {
    // Validation seeds score high, the input's wanted rows low (unlike the seeds): recall 3 of 4 there ([0.30, 0.95]), 0 of 24 here ([0, 0.14]).
    const input = Array.from({ length: 30 }, (_, i) => ({ id: i, text: 't', is_agent: i < 24, score: i < 24 ? 0.3 : 0.1 }));
    const run = await runNode(threshold, {
      inputs: { in: await makeDataset(input), validation: await makeDataset(VALIDATION) },
      params: { target: { metric: 'recall', value: 0.75 }, labelColumn: 'is_agent' },
    });
    const m = json(run.outputs.metrics!.dir, 'metrics.json');
    expect(m).toMatchObject({ threshold: 0.75, recall: 0, validation_recall: 0.75 });
    expect(String(m.warning)).toMatch(/recall here is 0.000 .* but 0.750 \[0.301, 0.954\] on the validation rows .* does not carry over/);
  });

  it('refuses validation rows without the label column', async () => {
    await expect(
      runNode(threshold, {
        inputs: { in: await makeDataset(ROWS), validation: await makeDataset(VALIDATION.map(({ id, text, score }) => ({ id, text, score }))) },
        params: { target: { metric: 'recall', value: 0.5 }, labelColumn: 'is_agent' },
      }),
    ).rejects.toThrow(/input "validation" has no column "is_agent"/);
  });
});
