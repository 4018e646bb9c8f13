import { afterAll, describe, expect, it } from 'vitest';
import { loadClassifier } from '../_sdk/models/classifier.js';
import { twoClassCorpus } from '../_sdk/testing/corpus.js';
import { cleanupTempDirs, makeDataset, readDataset, runNode } from '../_sdk/testing/harness.js';
import train from '../classifier-train/index.js';
import score from './index.js';

afterAll(cleanupTempDirs);

async function trained(loss: 'softmax' | 'hs' | 'ova') {
  const docs = twoClassCorpus(160, 0);
  const positives = await makeDataset(docs.filter((d) => d.label === 'api').map((d, i) => ({ id: `a${i}`, text: d.text, source: 'api' })));
  const negatives = await makeDataset(docs.filter((d) => d.label === 'prose').map((d, i) => ({ id: `p${i}`, text: d.text, source: 'prose' })));
  const run = await runNode(train, { inputs: { positives, negatives }, params: { positiveLabel: 'agent', negativeLabel: 'general', dim: 8, bucket: 4000, epoch: 5, lr: 0.5, loss, minn: 2, maxn: 4 } });
  return run.outputs.model!;
}

describe('classifier scoring node', () => {
  for (const loss of ['softmax', 'hs', 'ova'] as const) {
    it(`writes score and top label; the ONNX backend equals the TypeScript backend (${loss})`, async () => {
      const model = await trained(loss);
      const rows = [...twoClassCorpus(30, 400).map((d, i) => ({ id: i, text: d.text, source: d.label, extra: `x${i}` })), { id: 99, text: '', source: 'none', extra: 'empty' }];
      const data = await makeDataset(rows);
      const ts = await runNode(score, { inputs: { model, in: data }, params: { allLabels: true } });
      const ox = await runNode(score, { inputs: { model, in: data }, params: { allLabels: true, backend: 'onnx', provider: 'cpu', batchSize: 7 } });
      const a = await readDataset(ts.outputs.out!);
      const b = await readDataset(ox.outputs.out!);
      expect(ts.outputs.out!.manifest.schema!.map((c) => c.name)).toEqual(['id', 'text', 'source', 'extra', 'score', 'predicted_label', 'p_agent', 'p_general']);
      expect(a.map((r) => r.id)).toEqual(rows.map((r) => r.id));
      a.forEach((r, i) => {
        expect(Math.abs((r.score as number) - (b[i]!.score as number))).toBeLessThan(1e-6);
        expect(r.score).toBe(r.p_agent);
        if (i < 30) expect(r.predicted_label).toBe(rows[i]!.source === 'api' ? 'agent' : 'general');
      });
      // TypeScript scores are the model's probabilities.
      const { model: m } = loadClassifier(model);
      expect(a[0]!.score).toBeCloseTo(m.probabilities(m.features(rows[0]!.text))[m.labels.indexOf('__label__agent')]!, 6);
      expect(ox.device).toBe('cpu');
    });
  }

  it('scores another label on request and refuses unknown ones', async () => {
    const model = await trained('softmax');
    const data = await makeDataset([{ id: 1, text: 'once upon a time', source: 's' }]);
    const run = await runNode(score, { inputs: { model, in: data }, params: { positiveLabel: 'general', scoreColumn: 'p_prose' } });
    expect((await readDataset(run.outputs.out!))[0]!.p_prose as number).toBeGreaterThan(0.5);
    await expect(runNode(score, { inputs: { model, in: data }, params: { positiveLabel: 'nope' } })).rejects.toThrow(
      /no label "nope" \(labels: agent, general\)|no label "nope" \(labels: general, agent\)/,
    );
  });
});
