import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { isDeferredManifest } from '../sdk/dataset.js';
import { readRecipe } from '../sdk/deferred.js';
import type { Workspace } from '../workspace.js';

/**
 * Whether a cached artifact can be reused: it must be in the store and intact, and a sink's file
 * outside the store (`meta.path` + `meta.fileHash`, written by sink.write) must still hold what was
 * written. A damaged artifact is quarantined, so the node recomputes and republishes it.
 */
export function usableArtifact(ws: Workspace, hash: string, baseDir: string, warn: (message: string) => void): boolean {
  if (!ws.store.has(hash)) return false;
  const checked = ws.store.inspect(hash);
  if (checked.problem !== null) {
    const moved = ws.store.quarantine(hash);
    warn(`artifact ${hash.slice(0, 19)} is damaged (${checked.problem}); moved to ${moved} and recomputing`);
    return false;
  }
  const meta = checked.manifest.meta;
  // A recipe is only as good as the inputs it names: one gone from the store would fail its consumer's pass.
  if (isDeferredManifest(checked.manifest)) {
    const gone = Object.values(readRecipe(ws.store.ref(hash)).inputs).find((h) => !usableArtifact(ws, h, baseDir, warn));
    if (gone) {
      warn(`deferred dataset ${hash.slice(0, 19)} names input ${gone.slice(0, 19)}, which is gone from the store; recomputing`);
      return false;
    }
  }
  if (typeof meta.path === 'string' && typeof meta.fileHash === 'string') {
    const file = isAbsolute(meta.path) ? meta.path : resolve(baseDir, meta.path);
    const now = currentHash(file, typeof meta.bytes === 'number' ? meta.bytes : null);
    if (now !== meta.fileHash) {
      warn(`${meta.path} is ${now === null ? 'missing' : 'changed'} since this node wrote it; writing it again`);
      return false;
    }
  }
  return true;
}

function currentHash(file: string, bytes: number | null): string | null {
  try {
    const st = statSync(file);
    if (!st.isFile() || (bytes !== null && st.size !== bytes)) return null;
    const h = createHash('sha256');
    const buf = Buffer.allocUnsafe(1 << 20);
    const fd = openSync(file, 'r');
    try {
      for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) h.update(buf.subarray(0, n));
    } finally {
      closeSync(fd);
    }
    return `sha256:${h.digest('hex')}`;
  } catch {
    return null;
  }
}
