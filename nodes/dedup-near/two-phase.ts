/**
 * Near-duplicate detection that does not hold the corpus in memory. Phase 1 streams each input
 * shard once and writes, per document, its LSH band keys (and, for `verify: signature`, its MinHash
 * signature) into DuckDB tables; phase 2 finds candidate pairs by grouping those keys in DuckDB,
 * which spills to disk beyond its memory limit; phase 3 streams the candidate pairs with the two
 * texts (or signatures) joined in, verifies them, and unions the verified ones. JavaScript keeps
 * only per-document integers (cluster roots, similarities): 12 bytes a document.
 * The candidates, verdicts and clusters are exactly those of `findNearDuplicates` (minhash.ts).
 */
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import { throwIfAborted } from '../../engine/sdk/node-error.js';
import { sqlIdent } from '../../engine/sdk/sql.js';
import { POS, tempName, type PositionedShard } from '../_sdk/dataset/rows.js';
import { bandKey, estimatedJaccard, jaccard, MinHasher, shingles, UnionFind, type NearDupOptions } from './minhash.js';

export interface TwoPhaseInput {
  /** Two connections of one DuckDB instance: one streams while the other appends. */
  conn: DuckDBConnection;
  reader: DuckDBConnection;
  shards: PositionedShard[];
  textColumn: string;
  signal: AbortSignal;
  progress: (done: number, total: number, message: string) => void;
}

export interface TwoPhaseResult {
  rows: number;
  /** Table (pos, cluster_pos, cluster_size, is_representative, jaccard) of every document in a cluster of two or more. */
  clustered: string;
  candidatePairs: number;
  verifiedPairs: number;
  /** Tables to drop once the outputs are written. */
  tables: string[];
  /** Seconds spent in each phase, for the node's log. */
  seconds: { signatures: number; candidates: number; verification: number };
}

export async function nearDuplicatesTwoPhase(input: TwoPhaseInput, opts: NearDupOptions): Promise<TwoPhaseResult> {
  const { conn, shards, signal } = input;
  const tables: string[] = [];
  const table = async (prefix: string, columns: string): Promise<string> => {
    const name = tempName(prefix);
    tables.push(name);
    await conn.run(`CREATE TABLE ${sqlIdent(name)} (${columns})`);
    return name;
  };
  const n = shards.reduce((s, sh) => s + sh.rows, 0);
  // One row a document with a column per band: appending is per row, so this is bands× fewer appends.
  const keys = await table('dedup_keys', ['pos BIGINT', ...Array.from({ length: opts.bands }, (_, b) => `b${b} DOUBLE`)].join(', '));
  const sigs = opts.verify === 'signature' ? await table('dedup_sigs', 'pos BIGINT, sig BLOB') : undefined;
  const t0 = performance.now();
  await writeSignatures(input, opts, keys, sigs);
  const t1 = performance.now();

  const pairs = await table('dedup_pairs', 'i BIGINT, j BIGINT');
  await conn.run(candidatePairsSql(keys, opts.bands, pairs, opts.maxBucket ?? 100));
  const candidatePairs = Number((await conn.runAndReadAll(`SELECT count(*) FROM ${sqlIdent(pairs)}`)).getRowsJS()[0]?.[0] ?? 0);
  throwIfAborted(signal);
  const t2 = performance.now();

  const uf = new UnionFind(n);
  let verifiedPairs = 0;
  let checked = 0;
  for await (const [i, j, sim] of similarities(input, opts, pairs, sigs, tables)) {
    if (sim >= opts.threshold) {
      uf.union(i, j);
      verifiedPairs++;
    }
    if (++checked % 10_000 === 0) {
      throwIfAborted(signal);
      input.progress(checked, candidatePairs, `verified ${checked.toLocaleString('en-US')} of ${candidatePairs.toLocaleString('en-US')} candidate pairs`);
    }
  }

  // Roots are the smallest position of each cluster; members other than the root need their
  // similarity to it, which is not always a candidate pair of their own.
  const root = new Int32Array(n);
  const size = new Int32Array(n);
  for (let d = 0; d < n; d++) {
    const r = uf.find(d);
    root[d] = r;
    size[r] = (size[r] as number) + 1;
  }
  const members = await table('dedup_members', 'i BIGINT, j BIGINT');
  await append(conn, members, (app) => {
    for (let d = 0; d < n; d++) {
      if (root[d] === d) continue;
      app.appendBigInt(BigInt(root[d] as number));
      app.appendBigInt(BigInt(d));
      app.endRow();
    }
  });
  const similarity = new Float64Array(n).fill(1);
  for await (const [, d, sim] of similarities(input, opts, members, sigs, tables)) similarity[d] = sim;

  const clustered = await table('dedup_clustered', 'pos BIGINT, cluster_pos BIGINT, cluster_size BIGINT, is_representative BOOLEAN, jaccard DOUBLE');
  await append(conn, clustered, (app) => {
    for (let d = 0; d < n; d++) {
      const r = root[d] as number;
      const s = size[r] as number;
      if (s < 2) continue;
      app.appendBigInt(BigInt(d));
      app.appendBigInt(BigInt(r));
      app.appendBigInt(BigInt(s));
      app.appendBoolean(r === d);
      app.appendDouble(Math.round((similarity[d] as number) * 1e6) / 1e6);
      app.endRow();
    }
  });
  input.progress(candidatePairs, candidatePairs, 'clusters');
  const seconds = { signatures: (t1 - t0) / 1000, candidates: (t2 - t1) / 1000, verification: (performance.now() - t2) / 1000 };
  return { rows: n, clustered, candidatePairs, verifiedPairs, tables, seconds };
}

/** Phase 1: one streamed pass per shard; band keys (and signatures) go to DuckDB as they are computed. */
async function writeSignatures(input: TwoPhaseInput, opts: NearDupOptions, keys: string, sigs: string | undefined): Promise<void> {
  const { conn, reader, shards, signal } = input;
  const hasher = new MinHasher(opts.bands * opts.rows, opts.seed);
  const keyApp = await conn.createAppender(keys);
  const sigApp = sigs ? await conn.createAppender(sigs) : undefined;
  try {
    for (let s = 0; s < shards.length; s++) {
      throwIfAborted(signal);
      const shard = shards[s] as PositionedShard;
      const result = await reader.stream(`SELECT ${POS}, CAST(${sqlIdent(input.textColumn)} AS VARCHAR) FROM (${shard.sql})`);
      for await (const rows of result.yieldRowsJs()) {
        for (const row of rows) {
          const pos = row[0] as bigint;
          const text = row[1] === null || row[1] === undefined ? '' : String(row[1]);
          const sig = hasher.signature(shingles(text, opts.unit, opts.ngram, opts.lowercase ?? true));
          keyApp.appendBigInt(pos);
          // Band keys are below 2^53, so a DOUBLE holds them exactly.
          for (let band = 0; band < opts.bands; band++) keyApp.appendDouble(bandKey(sig, band, opts.rows));
          keyApp.endRow();
          if (sigApp) {
            sigApp.appendBigInt(pos);
            sigApp.appendBlob(new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength));
            sigApp.endRow();
          }
        }
        throwIfAborted(signal);
      }
      input.progress(s + 1, shards.length, `MinHash signatures: ${s + 1}/${shards.length} shards`);
    }
    keyApp.flushSync();
    sigApp?.flushSync();
  } finally {
    keyApp.closeSync();
    sigApp?.closeSync();
  }
}

/**
 * Phase 2 as SQL: in every (band, key) bucket with two or more documents, each of the first
 * `maxBucket` members (in dataset order) pairs with every later member — the rule of `lshCandidates`.
 */
function candidatePairsSql(keys: string, bands: number, pairs: string, maxBucket: number): string {
  const k = sqlIdent(keys);
  const long = Array.from({ length: bands }, (_, b) => `SELECT pos, ${b} AS band, b${b} AS key FROM ${k}`).join(' UNION ALL ');
  return `INSERT INTO ${sqlIdent(pairs)}
    WITH keyed AS (${long}),
    shared AS (SELECT band, key FROM keyed GROUP BY band, key HAVING count(*) > 1),
    members AS (
      SELECT m.pos, m.band, m.key, row_number() OVER (PARTITION BY m.band, m.key ORDER BY m.pos) AS rn
      FROM keyed m SEMI JOIN shared USING (band, key)
    )
    SELECT DISTINCT a.pos AS i, b.pos AS j
    FROM members a JOIN members b ON a.band = b.band AND a.key = b.key AND b.rn > a.rn
    WHERE a.rn <= ${Math.trunc(maxBucket)}`;
}

/**
 * Copies into a new table `name` the rows (`pos` and `columns`) at the positions `positions` (a
 * query of one column `pos`) selects, one input shard at a time. Joining the whole dataset instead
 * leaves the plan to DuckDB's estimate of a union of many Parquet files; when that puts the texts
 * on a hash join's build side, the join runs out of memory at a few hundred thousand documents.
 */
export async function rowsAt(conn: DuckDBConnection, shards: readonly PositionedShard[], positions: string, name: string, columns: string): Promise<void> {
  const wanted = `${name}_pos`;
  await conn.run(`CREATE TEMP TABLE ${sqlIdent(wanted)} AS SELECT DISTINCT pos FROM (${positions})`);
  try {
    await conn.run(`CREATE TABLE ${sqlIdent(name)} AS SELECT ${POS} AS pos, ${columns} FROM (${(shards[0] as PositionedShard).sql}) LIMIT 0`);
    let first = 0;
    for (const shard of shards) {
      const range = `pos >= ${first} AND pos < ${first + shard.rows}`;
      first += shard.rows;
      await conn.run(`INSERT INTO ${sqlIdent(name)} SELECT ${POS}, ${columns} FROM (${shard.sql}) WHERE ${POS} IN (SELECT pos FROM ${sqlIdent(wanted)} WHERE ${range})`);
    }
  } finally {
    await conn.run(`DROP TABLE IF EXISTS ${sqlIdent(wanted)}`);
  }
}

/** Streams (i, j, similarity) for every row of a pairs table, with the texts or signatures joined in by DuckDB. */
async function* similarities(input: TwoPhaseInput, opts: NearDupOptions, pairs: string, sigs: string | undefined, tables: string[]): AsyncGenerator<[number, number, number]> {
  const p = sqlIdent(pairs);
  let sql: string;
  if (sigs) {
    sql = `SELECT p.i, p.j, a.sig, b.sig FROM ${p} p JOIN ${sqlIdent(sigs)} a ON a.pos = p.i JOIN ${sqlIdent(sigs)} b ON b.pos = p.j`;
  } else {
    // Only the pairs' documents' texts, gathered shard by shard: a table DuckDB knows the size of.
    const texts = tempName('dedup_texts');
    tables.push(texts);
    await rowsAt(input.conn, input.shards, `SELECT i AS pos FROM ${p} UNION ALL SELECT j FROM ${p}`, texts, `CAST(${sqlIdent(input.textColumn)} AS VARCHAR) AS text`);
    const t = sqlIdent(texts);
    sql = `SELECT p.i, p.j, a.text, b.text FROM ${p} p JOIN ${t} a ON a.pos = p.i JOIN ${t} b ON b.pos = p.j`;
  }
  const result = await input.reader.stream(sql);
  const shingled = (v: unknown) => shingles(v === null || v === undefined ? '' : String(v), opts.unit, opts.ngram, opts.lowercase ?? true);
  const signature = (v: unknown) => {
    const bytes = v as Uint8Array;
    return new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  };
  for await (const rows of result.yieldRowsJs()) {
    for (const row of rows) {
      const sim = sigs ? estimatedJaccard(signature(row[2]), signature(row[3])) : jaccard(shingled(row[2]), shingled(row[3]));
      yield [Number(row[0]), Number(row[1]), sim];
    }
  }
}

async function append(conn: DuckDBConnection, table: string, fill: (app: DuckDBAppender) => void): Promise<void> {
  const app = await conn.createAppender(table);
  try {
    fill(app);
    app.flushSync();
  } finally {
    app.closeSync();
  }
}
