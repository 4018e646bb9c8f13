import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { defineNode } from '../../engine/sdk/types.js';
import { readEmbeddings } from '../_sdk/vectors/embeddings.js';
import { l2normalize } from '../_sdk/vectors/encoders.js';
import { INDEX_FILE, INDEX_META, type IndexMeta } from '../_sdk/vectors/index-artifact.js';
import { buildHnsw, DEFAULT_HNSW } from '../_sdk/vectors/knn.js';

const params = z.object({
  connectivity: z.number().int().min(2).max(256).default(DEFAULT_HNSW.connectivity).meta({ title: 'Connectivity (M)', description: 'Links per node: higher = better recall, more memory' }),
  expansionAdd: z.number().int().min(1).max(4096).default(DEFAULT_HNSW.expansionAdd).meta({ title: 'Build beam (efConstruction)' }),
  threads: z.number().int().min(0).max(256).default(0).meta({ title: 'Threads', description: '0 = all cores' }),
});

export default defineNode({
  type: 'ml.index-hnsw',
  version: 1,
  category: 'ML',
  title: 'HNSW index',
  description: 'Builds an approximate nearest-neighbour index (HNSW, usearch, inner product on unit vectors) over an embeddings artifact, stored as a cached index artifact for the retriever.',
  inputs: { in: { kind: 'embeddings' } },
  outputs: { out: { kind: 'index' } },
  params,
  // A multi-threaded HNSW build inserts in a racy order: the graph differs run to run.
  deterministic: false,
  worker: true,
  async run(ctx) {
    const p = ctx.params;
    const ref = ctx.input('in');
    const { meta, data } = readEmbeddings(ref, 'in');
    if (!meta.normalized) {
      ctx.log('embeddings are not normalised: normalising a copy so that inner product = cosine', 'warn');
      l2normalize(data, meta.dim);
    }
    ctx.progress(0, meta.count, 'building HNSW');
    const t0 = performance.now();
    const index = buildHnsw(data, meta.count, meta.dim, { ...DEFAULT_HNSW, connectivity: p.connectivity, expansionAdd: p.expansionAdd }, p.threads);
    const seconds = (performance.now() - t0) / 1000;
    const out = ctx.output('out');
    index.save(out.file(INDEX_FILE));
    const m: IndexMeta = {
      format: 'forge.index',
      formatVersion: 1,
      type: 'hnsw',
      library: 'usearch',
      metric: 'ip',
      dim: meta.dim,
      count: meta.count,
      connectivity: p.connectivity,
      expansionAdd: p.expansionAdd,
      embeddings: ref.hash,
      normalized: true,
    };
    writeFileSync(out.file(INDEX_META), `${JSON.stringify(m, null, 2)}\n`);
    for (const [k, v] of Object.entries(m)) out.setMeta(k, v);
    out.setRows(meta.count);
    ctx.setDevice('cpu');
    ctx.log(`indexed ${meta.count} vectors (${meta.dim} dims) in ${seconds.toFixed(2)} s`);
    ctx.progress(meta.count, meta.count);
  },
  module: import.meta.url,
});
