import { z } from 'zod';
import { writeDatasetFromQuery } from '../../engine/sdk/dataset.js';
import { NodeError, throwIfAborted } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { round } from '../_sdk/report.js';
import { columns, tempTable, type Cell } from '../_sdk/dataset/records.js';
import { POS, positionedSql } from '../_sdk/dataset/rows.js';
import { findNearDuplicates, lshThreshold } from './minhash.js';

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
    const conn = await ctx.duckdb();
    await conn.run(`CREATE TEMP TABLE t AS SELECT * FROM ${await positionedSql(conn, ref)}`);
    const reader = await conn.runAndReadAll(`SELECT ${POS}, id, text FROM t ORDER BY ${POS}`);
    const rows = reader.getRowsJS();
    const ords = rows.map((r) => r[0] as bigint);
    const ids = rows.map((r) => String(r[1]));
    const texts = rows.map((r) => (r[2] === null || r[2] === undefined ? '' : String(r[2])));
    throwIfAborted(ctx.signal);
    const res = findNearDuplicates(
      texts,
      { unit: p.unit, ngram: p.ngram, bands: p.bands, rows: p.rows, threshold: p.threshold, verify: p.verify, seed: ctx.seed, maxBucket: p.maxBucket, lowercase: p.lowercase },
      (done, total) => ctx.progress(done, total, 'MinHash signatures'),
    );
    throwIfAborted(ctx.signal);
    const size = new Map<number, number>();
    for (const r of res.root) size.set(r, (size.get(r) ?? 0) + 1);
    const decisions: Cell[][] = ids.map((_, i) => {
      const root = res.root[i] as number;
      return [String(ords[i]), ids[root] as string, String(ords[root]), size.get(root) ?? 1, root === i, round(res.similarity[i] as number, 6)];
    });
    const d = await tempTable(conn, columns({ ord: 'BIGINT', cluster_id: 'VARCHAR', cluster_ord: 'BIGINT', cluster_size: 'BIGINT', is_representative: 'BOOLEAN', jaccard: 'DOUBLE' }), decisions);
    const join = `FROM t JOIN ${d} d ON d.ord = t.${POS}`;
    const kept = await writeDatasetFromQuery(conn, `SELECT t.* EXCLUDE (${POS}), d.cluster_size ${join} WHERE d.is_representative ORDER BY t.${POS}`, ctx.output('out'));
    const dropped = await writeDatasetFromQuery(
      conn,
      `SELECT t.* EXCLUDE (${POS}), d.cluster_id AS duplicate_of, d.jaccard ${join} WHERE NOT d.is_representative ORDER BY t.${POS}`,
      ctx.output('dropped'),
    );
    const clusters = await writeDatasetFromQuery(
      conn,
      `SELECT t.id, t.text, t.source, d.cluster_id, d.cluster_size, d.is_representative, d.jaccard ${join} WHERE d.cluster_size > 1
       ORDER BY d.cluster_size DESC, d.cluster_ord, NOT d.is_representative, t.${POS}`,
      ctx.output('clusters'),
    );
    if (kept.rows + dropped.rows !== ids.length) throw new NodeError(`internal: ${kept.rows} kept + ${dropped.rows} dropped ≠ ${ids.length} rows (are ids unique?)`, { field: 'id' });
    const nClusters = [...size.values()].filter((s) => s > 1).length;
    const meta = {
      rows_in: ids.length,
      kept: kept.rows,
      dropped: dropped.rows,
      clusters: nClusters,
      clustered_documents: clusters.rows,
      candidate_pairs: res.candidatePairs,
      verified_pairs: res.verifiedPairs,
      permutations: p.bands * p.rows,
      lsh_threshold: round(lshThreshold(p.bands, p.rows), 4),
    };
    for (const port of ['out', 'dropped', 'clusters']) for (const [k, v] of Object.entries(meta)) ctx.output(port).setMeta(k, v);
    ctx.log(
      `${ids.length} rows in, ${kept.rows} kept, ${dropped.rows} near duplicates in ${nClusters} clusters; ${res.candidatePairs} LSH candidate pairs, ${res.verifiedPairs} ≥ ${p.threshold} (${p.verify}); LSH threshold ≈ ${meta.lsh_threshold}`,
    );
  },
  module: import.meta.url,
});
