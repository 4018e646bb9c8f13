import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { EMBEDDINGS_FILE, EmbeddingsWriter } from '../_sdk/vectors/embeddings.js';
import { cleanupTempDirs, makeDataset, runNode } from '../_sdk/testing/harness.js';
import embedder, { BUILTIN_HASHED } from './index.js';

// Records every chunk the node pulls from the text column, and fails the test if it ever asks for
// the whole column at once: that is how the node went O(N) in memory before (issue 11).
const seen = vi.hoisted(() => ({ chunks: [] as number[] }));
vi.mock('../_sdk/dataset/rows.js', async (importOriginal) => {
  const rows = await importOriginal<typeof import('../_sdk/dataset/rows.js')>();
  return {
    ...rows,
    readStringColumn: () => {
      throw new Error('the embedder read the whole text column at once');
    },
    async *readStringColumnChunks(...args: Parameters<typeof rows.readStringColumnChunks>) {
      for await (const chunk of rows.readStringColumnChunks(...args)) {
        seen.chunks.push(chunk.length);
        yield chunk;
      }
    },
  };
});

afterAll(cleanupTempDirs);
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  seen.chunks.length = 0;
});

const DIM = 16;
const params = { model: BUILTIN_HASHED, hashed: { dim: DIM, buckets: 1024 } };
const texts = Array.from({ length: 11 }, (_, i) => `document ${i} about ${i % 2 ? 'calling a json api endpoint' : 'a frog by the well'} ${'word '.repeat(i)}`);

async function embed(rows: Record<string, unknown>[], chunkRows?: number) {
  if (chunkRows !== undefined) vi.stubEnv('FORGE_VECTOR_CHUNK_ROWS', String(chunkRows));
  const appended: number[] = [];
  const append = EmbeddingsWriter.prototype.append;
  vi.spyOn(EmbeddingsWriter.prototype, 'append').mockImplementation(function (this: EmbeddingsWriter, data: Float32Array) {
    appended.push(data.length / DIM);
    append.call(this, data);
  });
  const ds = await makeDataset(rows, { shards: 3 });
  const run = await runNode(embedder, { inputs: { in: ds }, params });
  const chunks = [...seen.chunks];
  seen.chunks.length = 0;
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  return { bytes: readFileSync(join(run.outputs.out!.dir, EMBEDDINGS_FILE)), chunks, appended };
}

describe('ml.embed streams: bounded memory whatever the dataset size', () => {
  const rows = texts.map((text, i) => ({ id: `d${i}`, text, source: 's' }));

  it('reads the texts and writes the vectors in chunks of at most FORGE_VECTOR_CHUNK_ROWS rows, across shard seams', async () => {
    const small = await embed(rows, 4);
    expect(small.chunks).toEqual([4, 4, 3]);
    expect(small.appended).toEqual([4, 4, 3]);
    // One chunk (the default size is far above 11 rows) gives the very same bytes.
    const whole = await embed(rows);
    expect(whole.chunks).toEqual([11]);
    expect(small.bytes.length).toBe(11 * DIM * 4);
    expect(Buffer.compare(small.bytes, whole.bytes)).toBe(0);
  });

  it('an empty text in a later chunk still fails with the total count and the first ids', async () => {
    const bad = rows.map((r, i) => (i === 6 ? { ...r, text: '  ' } : i === 9 ? { ...r, text: null } : r));
    vi.stubEnv('FORGE_VECTOR_CHUNK_ROWS', '4');
    await expect(runNode(embedder, { inputs: { in: await makeDataset(bad, { shards: 2 }) }, params })).rejects.toThrow(/2 row\(s\) have an empty or NULL "text" \(ids d6, d9\)/);
  });
});
