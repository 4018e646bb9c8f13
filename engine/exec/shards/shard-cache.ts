import { join } from 'node:path';
import type { ShardCacheSlot } from '../../sdk/types.js';
import { hashValue } from '../../util/hash.js';

/** The cache-key parts a shard's result depends on besides its input shard. */
export interface ShardKeyParts {
  nodeType: string;
  nodeVersion: number;
  codeHash: string;
  params: Record<string, unknown>;
  files: { path: string; hash: string }[];
  seed: number;
  /**
   * Hashes of the inputs other than the one mapped shard by shard (a classifier's model): a shard
   * scored with another model is another result. Absent when there are none, so the keys of
   * single-input nodes stay what they were.
   */
  otherInputs?: Record<string, unknown>;
}

/** Folder of finished shards inside a workspace's `.forge`, shared by every node and run. */
export const SHARD_CACHE_DIR = 'shard-cache';

export function shardCacheSlot(forgeDir: string, parts: ShardKeyParts): ShardCacheSlot {
  return {
    dir: join(forgeDir, SHARD_CACHE_DIR),
    nodeKey: hashValue('forge-shard-node-v1', {
      ...parts,
      files: parts.files.map((f) => [f.path, f.hash]),
      // canonicalJson drops undefined: an empty map leaves the key as it was before other inputs counted.
      otherInputs: parts.otherInputs && Object.keys(parts.otherInputs).length > 0 ? parts.otherInputs : undefined,
    }),
  };
}
