import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BagEncoder, type HashedOptions } from '../_sdk/vectors/encoders.js';
import { PIN_TEXTS } from './fixtures/hashed-pin-texts.js';

interface Pinned {
  options: HashedOptions;
  model: string;
  modelHash: string;
  vectors: number[][];
}

// Vectors computed by the original (unoptimised) featuriser and batching: any speed-up of the
// built-in embedder must reproduce them, or stored embeddings and caches silently change meaning.
const pinned = JSON.parse(readFileSync(new URL('./fixtures/hashed-pinned.json', import.meta.url), 'utf8')) as Record<string, Pinned>;

function expectPinned(data: Float32Array, p: Pinned, rows: readonly number[]): void {
  rows.forEach((row, i) => {
    const want = p.vectors[row]!;
    for (let j = 0; j < p.options.dim; j++) expect(Math.abs(data[i * p.options.dim + j]! - want[j]!), `text ${row}, dim ${j}`).toBeLessThan(1e-6);
  });
}

describe('the built-in hashed n-gram embedder keeps its pinned outputs', () => {
  for (const [key, p] of Object.entries(pinned)) {
    it(`${key} options: same vectors, name and model hash, whatever the batch size and text order`, async () => {
      for (const batchSize of [1, 3, 32]) {
        const enc = await BagEncoder.hashed(p.options, { provider: 'cpu', batchSize });
        expect(enc.model).toBe(p.model);
        expect(enc.modelHash).toBe(p.modelHash);
        expectPinned(
          (await enc.encode(PIN_TEXTS)).data,
          p,
          PIN_TEXTS.map((_, i) => i),
        );
        // Encoding again (warm caches) and in reverse order gives the same rows.
        const rev = PIN_TEXTS.map((_, i) => PIN_TEXTS.length - 1 - i);
        expectPinned((await enc.encode(rev.map((i) => PIN_TEXTS[i]!))).data, p, rev);
        await enc.close();
      }
    });
  }
});
