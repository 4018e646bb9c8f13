import { z } from 'zod';
import { writeDatasetFromQuery } from '../../engine/sdk/dataset.js';
import { NodeError, throwIfAborted } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { round } from '../_sdk/report.js';
import { POS, positionedShards, requireColumn, tempName, writePerShard } from '../_sdk/dataset/rows.js';
import { lshThreshold } from './minhash.js';
import { nearDuplicatesTwoPhase, rowsAt } from './two-phase.js';

const params = z.object({
  unit: z.enum(['word', 'char']).default('word').meta({ title: 'Shingle unit', description: 'word n-grams or character n-grams' }),
  ngram: z.number().int().min(1).max(50).default(5).meta({ title: 'Shingle size (n)' }),
  bands: z.number().int().min(1).max(512).default(16).meta({ title: 'LSH bands (b)' }),
  rows: z.number().int().min(1).max(64).default(8).meta({ title: 'Rows per band (r)', description: 'b × r MinHash permutations; pairs above ≈ (1/b)^(1/r) Jaccard become candidates' }),
  threshold: z.number().gt(0).lte(1).default(0.8).meta({ title: 'Jaccard threshold', description: 'Candidates at or above it are duplicates' }),
  verify: z.enum(['exact', 'signature']).default('exact').meta({ title: 'Verify candidates by', description: 'exact Jaccard of the shingle sets, or the MinHash estimate' }),
  lowercase: z.boolean().default(true).meta({ title: 'Lower-case first' }),
  maxBucket: z.number().int().min(2).default(100).meta({ title: 'Largest LSH bucket compared in full' }),
});

export default defineNode({
  type: 'transform.dedup-near',
  version: 1,
  category: 'Transforms',
  title: 'Dedup (near, MinHash)',
  description:
    'Near-duplicate removal with MinHash + LSH over word or character n-gram shingles (bands × rows). Keeps the first document of each duplicate cluster; the others go to dropped, and every cluster with more than one member is written to clusters for inspection (cluster id, similarity to the kept document).',
  inputs: { in: { kind: 'dataset' } },
  outputs: {
    out: { kind: 'dataset', title: 'unique' },
    dropped: { kind: 'dataset', title: 'near duplicates' },
    clusters: { kind: 'dataset', title: 'duplicate clusters' },
  },
  params,
  deterministic: true,
  worker: true,
  async run(ctx) {
    const p = ctx.params;
    const ref = ctx.input('in');
    requireColumn(ref, 'id', 'in', 'id');
    requireColumn(ref, 'text', 'in', 'text');
    const conn = await ctx.duckdb();
    const reader = await ctx.duckdb();
    const shards = await positionedShards(conn, ref);
    const res = await nearDuplicatesTwoPhase(
      { conn, reader, shards, textColumn: 'text', signal: ctx.signal, progress: (done, total, message) => ctx.progress(done, total, message) },
      { unit: p.unit, ngram: p.ngram, bands: p.bands, rows: p.rows, threshold: p.threshold, verify: p.verify, seed: ctx.seed, maxBucket: p.maxBucket, lowercase: p.lowercase },
    );
    try {
      throwIfAborted(ctx.signal);
      // The clustered documents' own rows, gathered shard by shard (see rowsAt): ids, and what the clusters port shows.
      const members = tempName('dedup_member_rows');
      res.tables.push(members);
      await rowsAt(conn, shards, `SELECT pos FROM ${res.clustered}`, members, 'id, text, source');
      // The clustered documents with their kept document's id; every other row is its own cluster of one.
      const d = tempName('dedup_decisions');
      res.tables.push(d);
      await conn.run(`CREATE TABLE ${d} AS SELECT c.*, CAST(r.id AS VARCHAR) AS cluster_id FROM ${res.clustered} c JOIN ${members} r ON r.pos = c.cluster_pos`);
      const from = (src: string) => `FROM (${src}) t LEFT JOIN ${d} d ON d.pos = t.${POS}`;
      const rows = await writePerShard(
        conn,
        shards,
        {
          out: {
            out: ctx.output('out'),
            query: (src) => `SELECT t.* EXCLUDE (${POS}), coalesce(d.cluster_size, 1)::BIGINT AS cluster_size ${from(src)} WHERE coalesce(d.is_representative, true) ORDER BY t.${POS}`,
          },
          dropped: {
            out: ctx.output('dropped'),
            query: (src) => `SELECT t.* EXCLUDE (${POS}), d.cluster_id AS duplicate_of, d.jaccard ${from(src)} WHERE NOT coalesce(d.is_representative, true) ORDER BY t.${POS}`,
          },
        },
        ctx.signal,
      );
      const kept = { rows: rows.out ?? 0 };
      const dropped = { rows: rows.dropped ?? 0 };
      const clusters = await writeDatasetFromQuery(
        conn,
        `SELECT t.id, t.text, t.source, d.cluster_id, d.cluster_size, d.is_representative, d.jaccard FROM ${members} t JOIN ${d} d ON d.pos = t.pos
         ORDER BY d.cluster_size DESC, d.cluster_pos, NOT d.is_representative, t.pos`,
        ctx.output('clusters'),
      );
      if (kept.rows + dropped.rows !== res.rows) throw new NodeError(`internal: ${kept.rows} kept + ${dropped.rows} dropped ≠ ${res.rows} rows`, { field: 'id' });
      const meta = {
        rows_in: res.rows,
        kept: kept.rows,
        dropped: dropped.rows,
        clusters: kept.rows === res.rows ? 0 : Number((await conn.runAndReadAll(`SELECT count(*) FROM ${d} WHERE is_representative`)).getRowsJS()[0]?.[0] ?? 0),
        clustered_documents: clusters.rows,
        candidate_pairs: res.candidatePairs,
        verified_pairs: res.verifiedPairs,
        permutations: p.bands * p.rows,
        lsh_threshold: round(lshThreshold(p.bands, p.rows), 4),
      };
      for (const port of ['out', 'dropped', 'clusters']) for (const [k, v] of Object.entries(meta)) ctx.output(port).setMeta(k, v);
      ctx.log(
        `${res.rows} rows in, ${kept.rows} kept, ${dropped.rows} near duplicates in ${meta.clusters} clusters; ${res.candidatePairs} LSH candidate pairs, ${res.verifiedPairs} ≥ ${p.threshold} (${p.verify}); LSH threshold ≈ ${meta.lsh_threshold}; signatures ${res.seconds.signatures.toFixed(1)} s, candidates ${res.seconds.candidates.toFixed(1)} s, verification ${res.seconds.verification.toFixed(1)} s`,
      );
    } finally {
      for (const t of res.tables) await conn.run(`DROP TABLE IF EXISTS ${t}`);
    }
  },
  module: import.meta.url,
});
