import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { twoClassCorpus } from '../_sdk/testing/corpus.js';
import { cleanupTempDirs, makeDataset, readDataset, runNode } from '../_sdk/testing/harness.js';
import train from '../classifier-train/index.js';
import score from './index.js';

// Records the chunks the node pulls from the text column and fails if it reads the whole column
// at once: reading every text before scoring made the node O(N) in memory (issue 11).
const seen = vi.hoisted(() => ({ chunks: [] as number[] }));
vi.mock('../_sdk/dataset/rows.js', async (importOriginal) => {
  const rows = await importOriginal<typeof import('../_sdk/dataset/rows.js')>();
  return {
    ...rows,
    readStringColumn: () => {
      throw new Error('classifier-score read the whole text column at once');
    },
    readStringColumnChunks: () => {
      throw new Error('classifier-score read the text column across shards, not within its shard');
    },
    async *readStringChunks(...args: Parameters<typeof rows.readStringChunks>) {
      for await (const chunk of rows.readStringChunks(...args)) {
        seen.chunks.push(chunk.length);
        yield chunk;
      }
    },
  };
});

afterAll(cleanupTempDirs);
afterEach(() => {
  vi.unstubAllEnvs();
  seen.chunks.length = 0;
});

describe('ml.classifier-score streams the texts: bounded memory whatever the dataset size', () => {
  it('scores in chunks of at most FORGE_VECTOR_CHUNK_ROWS rows, with the same output as one chunk', async () => {
    const docs = twoClassCorpus(40, 0);
    const positives = await makeDataset(docs.filter((d) => d.label === 'api').map((d, i) => ({ id: `a${i}`, text: d.text, source: 'api' })));
    const negatives = await makeDataset(docs.filter((d) => d.label === 'prose').map((d, i) => ({ id: `p${i}`, text: d.text, source: 'prose' })));
    const model = (await runNode(train, { inputs: { positives, negatives }, params: { positiveLabel: 'agent', negativeLabel: 'general', dim: 8, bucket: 2000, epoch: 3 } })).outputs.model!;
    const data = await makeDataset(
      twoClassCorpus(11, 500).map((d, i) => ({ id: i, text: d.text, source: d.label })),
      { shards: 2 },
    );
    const whole = await readDataset((await runNode(score, { inputs: { model, in: data }, params: { allLabels: true } })).outputs.out!);
    // One read per input shard, each whole (the default chunk is larger than a shard here).
    expect(seen.chunks).toHaveLength(2);
    expect(seen.chunks.reduce((a, b) => a + b, 0)).toBe(11);
    seen.chunks.length = 0;
    vi.stubEnv('FORGE_VECTOR_CHUNK_ROWS', '5');
    const chunked = await readDataset((await runNode(score, { inputs: { model, in: data }, params: { allLabels: true } })).outputs.out!);
    expect(seen.chunks.length).toBeGreaterThan(2);
    expect(Math.max(...seen.chunks)).toBeLessThanOrEqual(5);
    expect(seen.chunks.reduce((a, b) => a + b, 0)).toBe(11);
    expect(chunked).toEqual(whole);
  });
});
