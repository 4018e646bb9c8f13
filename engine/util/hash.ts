import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { canonicalJson } from '../contract/canonical-json.js';

/** Every hash we persist carries its algorithm name so the scheme can change later without ambiguity. */
export const HASH_PREFIX = 'sha256:';

export { canonicalJson, type JsonValue } from '../contract/canonical-json.js';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256(data: string | Uint8Array): string {
  return HASH_PREFIX + sha256Hex(data);
}

/** Hash of a value's canonical JSON, labelled with a domain string so hashes of different things never collide. */
export function hashValue(domain: string, value: unknown): string {
  return sha256(`${domain}\u0000${canonicalJson(value)}`);
}

/** Files up to this size are hashed with one read: streams cost more than they save on small files. */
const SMALL_FILE = 8 * 1024 * 1024;

export async function hashFile(path: string): Promise<{ hash: string; bytes: number }> {
  const size = statSync(path).size;
  if (size <= SMALL_FILE) {
    const data = readFileSync(path);
    return { hash: sha256(data), bytes: data.length };
  }
  const h = createHash('sha256');
  let bytes = 0;
  // 1 MiB reads: the default 64 KiB chunks spend more time in the stream machinery than in sha256.
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const buf = chunk as Buffer;
    bytes += buf.length;
    h.update(buf);
  }
  return { hash: HASH_PREFIX + h.digest('hex'), bytes };
}

/** Short form for display: `sha256:abcdef123456`. */
export function shortHash(hash: string, n = 12): string {
  return hash.startsWith(HASH_PREFIX) ? hash.slice(0, HASH_PREFIX.length + n) : hash.slice(0, n);
}

export function stripPrefix(hash: string): string {
  return hash.startsWith(HASH_PREFIX) ? hash.slice(HASH_PREFIX.length) : hash;
}
