import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sqlString } from '../../engine/sdk/sql.js';
import type { ArtifactRef } from '../../engine/sdk/types.js';
import { duckdbInstance } from '../../engine/store/duckdb.js';
import { positionedShards } from '../_sdk/dataset/rows.js';
import { mulberry32 } from '../_sdk/rng.js';
import { findNearDuplicates, type NearDupOptions } from './minhash.js';
import { nearDuplicatesTwoPhase, rowsAt } from './two-phase.js';

const dir = mkdtempSync(join(tmpdir(), 'forge-dedup-two-phase-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Random word documents with planted near copies, a mass of identical copies and empty texts. */
function corpus(): string[] {
  const rand = mulberry32(5);
  const doc = () => Array.from({ length: 120 }, () => Math.floor(rand() * 5000).toString(36)).join(' ');
  const texts = Array.from({ length: 400 }, doc);
  const edit = (t: string, k: number) =>
    t
      .split(' ')
      .map((w, i) => (i % 40 === k ? `edit${k}` : w))
      .join(' ');
  for (let i = 0; i < 30; i++) texts.push(edit(texts[i * 7] as string, i % 3));
  const mass = doc();
  for (let i = 0; i < 60; i++) texts.push(i % 2 === 0 ? mass : mass.toUpperCase());
  texts.push('', '', 'short');
  // Interleave, so clusters span shards.
  return texts
    .map((t, i) => ({ t, k: (i * 7919) % texts.length }))
    .sort((a, b) => a.k - b.k)
    .map((x) => x.t);
}

/** Writes texts as a dataset of Parquet shards of `perShard` rows, the layout a node's input has. */
async function dataset(texts: string[], perShard: number): Promise<ArtifactRef> {
  const instance = await duckdbInstance({ tempDirectory: join(dir, 'tmp') });
  const conn = await instance.connect();
  const out = join(dir, `ds-${perShard}`);
  mkdirSync(join(out, 'shards'), { recursive: true });
  const files: ArtifactRef['manifest']['files'] = [];
  try {
    for (let s = 0; s * perShard < texts.length; s++) {
      const rows = texts.slice(s * perShard, (s + 1) * perShard).map((t, i) => `(${s * perShard + i}, ${sqlString(t)})`);
      const path = `shards/part-${String(s).padStart(5, '0')}.parquet`;
      await conn.run(`COPY (SELECT 'd' || n AS id, text, 'test' AS source FROM (VALUES ${rows.join(', ')}) v(n, text) ORDER BY n) TO ${sqlString(join(out, path))} (FORMAT parquet)`);
      files.push({ path, hash: '', bytes: 0 });
    }
  } finally {
    conn.closeSync();
  }
  return { hash: 'sha256:test', kind: 'dataset', dir: out, manifest: { hash: 'sha256:test', kind: 'dataset', bytes: 0, meta: {}, files } };
}

async function twoPhase(ref: ArtifactRef, opts: NearDupOptions) {
  const instance = await duckdbInstance({ tempDirectory: join(dir, 'tmp') });
  const conn = await instance.connect();
  const reader = await instance.connect();
  const messages: string[] = [];
  try {
    const shards = await positionedShards(conn, ref);
    const res = await nearDuplicatesTwoPhase({ conn, reader, shards, textColumn: 'text', signal: new AbortController().signal, progress: (_d, _t, m) => messages.push(m) }, opts);
    const rows = (await conn.runAndReadAll(`SELECT pos, cluster_pos, cluster_size, is_representative, jaccard FROM ${res.clustered} ORDER BY pos`)).getRowsJS();
    for (const t of res.tables) await conn.run(`DROP TABLE ${t}`);
    const leftover = (await conn.runAndReadAll(`SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'dedup_%'`)).getRowsJS()[0]?.[0];
    return { res, rows: rows.map((r) => r.map((v) => (typeof v === 'bigint' ? Number(v) : v))), messages, leftover: Number(leftover) };
  } finally {
    conn.closeSync();
    reader.closeSync();
  }
}

describe('near dedup in two phases (signatures per shard, LSH banding in DuckDB)', () => {
  const texts = corpus();
  for (const verify of ['exact', 'signature'] as const) {
    it(`finds exactly the clusters of the in-memory reference (verify: ${verify}, buckets over maxBucket, 8 shards)`, async () => {
      const opts: NearDupOptions = { unit: 'word', ngram: 3, bands: 16, rows: 4, threshold: 0.8, verify, seed: 9, maxBucket: 20, lowercase: true };
      const expected = findNearDuplicates(texts, opts);
      const ref = await dataset(texts, 70);
      const { res, rows, messages, leftover } = await twoPhase(ref, opts);

      expect(res.rows).toBe(texts.length);
      expect(res.candidatePairs).toBe(expected.candidatePairs);
      expect(res.verifiedPairs).toBe(expected.verifiedPairs);
      const size = new Map<number, number>();
      for (const r of expected.root) size.set(r, (size.get(r) ?? 0) + 1);
      const want = [...expected.root].map((r, d) => [d, r, size.get(r) ?? 1, r === d, Math.round((expected.similarity[d] as number) * 1e6) / 1e6]).filter((row) => (row[2] as number) > 1);
      // The planted clusters are there (most of the 30 near copies, the 60-copy mass, the two empty texts).
      expect(want.length).toBeGreaterThanOrEqual(100);
      expect(rows).toEqual(want);
      const shards = Math.ceil(texts.length / 70);
      expect(shards).toBeGreaterThan(5);
      expect(messages).toContain(`MinHash signatures: ${shards}/${shards} shards`);
      expect(leftover).toBe(0);
    });
  }
});

describe('rowsAt', () => {
  it('copies exactly the rows at the given positions, from every shard, once each', async () => {
    const texts = Array.from({ length: 50 }, (_, i) => `text ${i}`);
    const ref = await dataset(texts, 7);
    const instance = await duckdbInstance({ tempDirectory: join(dir, 'tmp') });
    const conn = await instance.connect();
    try {
      const shards = await positionedShards(conn, ref);
      // Positions in the first, a middle and the last shard, repeated, and one past the end.
      await rowsAt(conn, shards, 'SELECT unnest([0, 6, 7, 7, 23, 49, 49, 50]) AS pos', 'picked', 'id, text');
      const rows = (await conn.runAndReadAll('SELECT pos, id, text FROM picked ORDER BY pos')).getRowsJS().map((r) => [Number(r[0]), r[1], r[2]]);
      expect(rows).toEqual([0, 6, 7, 23, 49].map((p) => [p, `d${p}`, `text ${p}`]));
      expect(Number((await conn.runAndReadAll(`SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'picked_%'`)).getRowsJS()[0]?.[0])).toBe(0);
    } finally {
      conn.closeSync();
    }
  });
});
