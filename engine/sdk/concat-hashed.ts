import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { HASH_PREFIX } from '../util/hash.js';

/** Large reads: the copy is bound by sha256, not by calls. */
const CHUNK = 8 << 20;

/** Joins `files` in order into a new file `to`, hashing the bytes on the way (one read of each part, no read-back). */
export async function concatHashed(files: readonly string[], to: string): Promise<{ hash: string; bytes: number }> {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK);
  let bytes = 0;
  const dst = await open(to, 'w');
  try {
    for (const file of files) {
      const src = await open(file, 'r');
      try {
        for (let n = (await src.read(buf, 0, CHUNK)).bytesRead; n > 0; n = (await src.read(buf, 0, CHUNK)).bytesRead) {
          const chunk = buf.subarray(0, n);
          h.update(chunk);
          for (let off = 0; off < n;) off += (await dst.write(chunk, off, n - off)).bytesWritten;
          bytes += n;
        }
      } finally {
        await src.close();
      }
    }
  } finally {
    await dst.close();
  }
  return { hash: HASH_PREFIX + h.digest('hex'), bytes };
}
