import { hashValue } from '../util/hash.js';

export interface CacheKeyParts {
  nodeType: string;
  nodeVersion: number;
  codeHash: string;
  params: Record<string, unknown>;
  /** port → artifact hash, or for a fan-in port the ordered list of { hash, variant }. */
  inputs: Record<string, unknown>;
  files: Record<string, string>;
  seed: number;
  /** Set only for an output that is a recipe, not rows (engine/sdk/deferred.ts): absent, keys stay as they were. */
  deferred?: true;
}

/**
 * cache key = hash(type, type version, code hash, canonical params, input artifact hashes, input
 * file hashes, seed). Labels, positions and notes never reach it.
 */
export function cacheKey(parts: CacheKeyParts): string {
  return hashValue('forge-cache-v1', parts);
}
