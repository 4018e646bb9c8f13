import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPredict, cliQuantize, cliSupervised, fastTextCli, NO_FASTTEXT, twoClassCorpus, writeLabelledCorpus } from '../_sdk/testing/corpus.js';
import { cleanupTempDirs, makeDataset, readDataset, runNode, tempDir } from '../_sdk/testing/harness.js';
import score from '../classifier-score/index.js';
import load from './index.js';

afterAll(cleanupTempDirs);
const CLI = fastTextCli();

// The comparisons with the `fasttext` command skip where it is not installed; say so once.
if (!CLI) console.warn(NO_FASTTEXT);

describe('loading fastText models', () => {
  it.skipIf(!CLI)('a .bin and its .ftz score rows like `fasttext predict-prob`', async () => {
    const dir = tempDir();
    const train = writeLabelledCorpus(dir, 300, 0);
    cliSupervised(CLI!, train, join(dir, 'm'), ['-wordNgrams', '2', '-minn', '2', '-maxn', '4', '-bucket', '20000']);
    cliQuantize(CLI!, train, join(dir, 'm'), 400);
    const texts = twoClassCorpus(20, 3000).map((d) => d.text);
    writeFileSync(join(dir, 'test.txt'), texts.join('\n') + '\n');
    const data = await makeDataset(texts.map((text, i) => ({ id: i, text, source: 's' })));
    for (const file of ['m.bin', 'm.ftz']) {
      const loaded = await runNode(load, { inputs: {}, params: { path: file, positiveLabel: 'api' }, baseDir: dir });
      const model = loaded.outputs.model!;
      expect(model.manifest.meta).toMatchObject({ quantized: file.endsWith('.ftz'), labels: expect.arrayContaining(['api', 'prose']), positiveLabel: 'api' });
      expect(model.manifest.files.map((f) => f.path)).toContain(`original.${file.split('.')[1]}`);
      const scored = await readDataset((await runNode(score, { inputs: { model, in: data }, params: { allLabels: true } })).outputs.out!);
      const expected = cliPredict(CLI!, join(dir, file), join(dir, 'test.txt'), 2);
      scored.forEach((r, i) => {
        const top = expected[i]![0]!;
        expect(`__label__${r.predicted_label as string}`).toBe(top.label);
        // The CLI reports p + 1e-5 (it prints exp(log(p + 1e-5))), to 6 significant digits.
        expect(Math.abs((r[`p_${top.label.slice(9)}`] as number) + 1e-5 - top.prob)).toBeLessThan(6e-6);
      });
    }
  });

  it('refuses missing, empty and foreign files with the file named', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'empty.bin'), '');
    writeFileSync(join(dir, 'text.bin'), 'hello, this is not a model at all');
    await expect(runNode(load, { inputs: {}, params: { path: 'nope.bin' }, baseDir: dir })).rejects.toThrow(/file not found/);
    await expect(runNode(load, { inputs: {}, params: { path: 'empty.bin' }, baseDir: dir })).rejects.toThrow(/file is empty/);
    await expect(runNode(load, { inputs: {}, params: { path: 'text.bin' }, baseDir: dir })).rejects.toMatchObject({
      name: 'NodeError',
      location: { file: 'text.bin' },
      message: expect.stringMatching(/not a readable fastText model: not a fastText model/),
    });
  });
});
