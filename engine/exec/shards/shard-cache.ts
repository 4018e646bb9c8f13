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
}

/** Folder of finished shards inside a workspace's `.forge`, shared by every node and run. */
export const SHARD_CACHE_DIR = 'shard-cache';

export function shardCacheSlot(forgeDir: string, parts: ShardKeyParts): ShardCacheSlot {
  return {
    dir: join(forgeDir, SHARD_CACHE_DIR),
    nodeKey: hashValue('forge-shard-node-v1', { ...parts, files: parts.files.map((f) => [f.path, f.hash]) }),
  };
}
