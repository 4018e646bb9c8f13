import { datasetSql, isDeferredManifest, NOT_WRITTEN } from '../sdk/dataset.js';
import type { ArtifactRef } from '../sdk/types.js';
import { duckdbInstance } from './duckdb.js';
import { projectEmbeddings, type EmbeddingsProjection } from './embeddings-preview.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Preview {
  hash: string;
  kind: string;
  rows: number | null;
  schema: { name: string; type: string }[] | null;
  offset: number;
  limit: number;
  records: Record<string, unknown>[];
  /** For metrics and charts: the JSON document itself. */
  data?: unknown;
  /** For embeddings: a 2-D PCA of a sample of rows, coloured by the source dataset's `source`. */
  projection?: EmbeddingsProjection;
  /** A Markdown summary the producing node attached (e.g. sink.report), shown as a document. */
  report?: string;
}

/** First rows of a dataset (or the JSON body of a metrics/chart artifact) for the CLI and the UI. */
export async function previewArtifact(ref: ArtifactRef, tmpDir: string, offset = 0, limit = 50, resolve: (hash: string) => ArtifactRef | null = () => null): Promise<Preview> {
  const base = { hash: ref.hash, kind: ref.kind, rows: ref.manifest.rows ?? null, schema: ref.manifest.schema ?? null, offset, limit };
  if (isDeferredManifest(ref.manifest)) {
    return { ...base, records: [], report: `**No rows to show.** This dataset ${NOT_WRITTEN}, or run with \`FORGE_DEFER=0\` to write every dataset.` };
  }
  if (ref.kind === 'dataset') {
    const instance = await duckdbInstance({ tempDirectory: join(tmpDir, 'duckdb') });
    const conn = await instance.connect();
    try {
      const reader = await conn.runAndReadAll(`SELECT * FROM ${datasetSql(ref)} LIMIT ${Math.max(0, Math.floor(limit))} OFFSET ${Math.max(0, Math.floor(offset))}`);
      return { ...base, records: reader.getRowObjectsJson() as Record<string, unknown>[] };
    } finally {
      conn.closeSync();
    }
  }
  if (ref.kind === 'embeddings') {
    return { ...base, records: [], data: ref.manifest.meta, projection: await projectEmbeddings(ref, tmpDir, resolve) };
  }
  const jsonFile = ref.manifest.files.find((f) => f.path.endsWith('.json'));
  const data = jsonFile ? (JSON.parse(readFileSync(join(ref.dir, jsonFile.path), 'utf8')) as unknown) : ref.manifest.meta;
  const report = ref.manifest.meta?.report;
  return { ...base, records: [], data, ...(typeof report === 'string' ? { report } : {}) };
}
