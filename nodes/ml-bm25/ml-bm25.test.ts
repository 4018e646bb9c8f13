import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, makeDataset, readDataset, runNode } from '../_sdk/testing/harness.js';
import bm25 from './index.js';

afterAll(cleanupTempDirs);

const SEEDS = [
  { id: 's1', text: 'get_weather(city, unit): returns the current temperature for a city', source: 'seed' },
  { id: 's2', text: 'book_flight(origin, destination, date): reserves a seat and returns a booking id', source: 'seed' },
];
const POOL = [
  { id: 'p1', text: 'Once upon a time a miller had three sons and a cat.', source: 'prose' },
  { id: 'p2', text: 'get_forecast(city, days, unit): returns the temperature forecast for a city', source: 'api' },
  { id: 'p3', text: 'cp copies files and directories; -r copies directories recursively', source: 'man' },
  { id: 'p4', text: 'cancel_flight(booking_id): cancels the booking and returns the refund', source: 'api' },
];

describe('ml.bm25', () => {
  it('keeps the best documents by BM25 and writes the score column', async () => {
    const run = await runNode(bm25, { inputs: { seeds: await makeDataset(SEEDS), pool: await makeDataset(POOL) }, params: { targetCount: 2, m: 1 } });
    const kept = await readDataset(run.outputs.retrieved!);
    expect(kept.map((r) => r.id).sort()).toEqual(['p2', 'p4']);
    expect(kept.every((r) => typeof r.lexical_score === 'number' && (r.lexical_score as number) > 0)).toBe(true);
    expect((await readDataset(run.outputs.rest!)).map((r) => r.id)).toEqual(['p1', 'p3']);
  });

  it('fuses with dense scores by reciprocal rank fusion', async () => {
    // Dense scores that put the man page first: fusion (k = 1, so ranks weigh) moves it above the prose, not above the best API doc.
    const dense = POOL.map((r, i) => ({ ...r, similarity: [0.1, 0.4, 0.9, 0.5][i]! }));
    const run = await runNode(bm25, { inputs: { seeds: await makeDataset(SEEDS), pool: await makeDataset(POOL), dense: await makeDataset(dense) }, params: { threshold: 0, m: 1, rrfK: 1 } });
    const rows = await readDataset(run.outputs.retrieved!);
    const s = Object.fromEntries(rows.map((r) => [r.id, r.lexical_score as number]));
    expect(s.p4!).toBeGreaterThan(s.p3!);
    expect(s.p3!).toBeGreaterThan(s.p1!);
  });

  it('needs a threshold or a target count', async () => {
    await expect(runNode(bm25, { inputs: { seeds: await makeDataset(SEEDS), pool: await makeDataset(POOL) }, params: {} })).rejects.toThrow(/threshold/);
  });
});
