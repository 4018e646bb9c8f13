import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeError } from '../../../engine/sdk/node-error.js';
import type { ArtifactRef } from '../../../engine/sdk/types.js';

/**
 * The `index` artifact (format `forge.index` v1): `index.usearch` (a usearch HNSW graph over the
 * rows of one embeddings artifact, keys = row numbers, inner-product metric) and `index.json`
 * `{ format, formatVersion, type: "hnsw", library: "usearch", metric: "ip", dim, count,
 * connectivity, expansionAdd, embeddings }` where `embeddings` is the indexed artifact's hash.
 */
export const INDEX_FILE = 'index.usearch';
export const INDEX_META = 'index.json';

export interface IndexMeta {
  format: 'forge.index';
  formatVersion: 1;
  type: 'hnsw';
  library: 'usearch';
  metric: 'ip';
  dim: number;
  count: number;
  connectivity: number;
  expansionAdd: number;
  embeddings: string;
  normalized: boolean;
}

export function readIndexMeta(ref: ArtifactRef, port = 'index'): { meta: IndexMeta; file: string } {
  if (ref.kind !== 'index') throw new NodeError(`input "${port}" is a ${ref.kind}, expected an index`, { field: `inputs.${port}` });
  const metaFile = join(ref.dir, INDEX_META);
  const file = join(ref.dir, INDEX_FILE);
  if (!existsSync(metaFile) || !existsSync(file)) throw new NodeError(`input "${port}" is not a Forge HNSW index (needs ${INDEX_META} and ${INDEX_FILE})`, { field: `inputs.${port}` });
  return { meta: JSON.parse(readFileSync(metaFile, 'utf8')) as IndexMeta, file };
}
