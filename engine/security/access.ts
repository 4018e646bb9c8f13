import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';

/**
 * The folders a graph may touch without the user's consent: the graph's own folder, the
 * workspace, and folders the user granted explicitly (`--allow`, the app's setting).
 * Every root is a real path, so a symlink cannot make an outside folder look like an inside one.
 */
export interface AccessRoots {
  graphDir: string;
  workspace: string;
  granted: string[];
}

export function accessRoots(graphDir: string, workspace: string, granted: readonly string[] = []): AccessRoots {
  return { graphDir: realPath(graphDir), workspace: realPath(workspace), granted: granted.map((g) => realPath(resolve(g))) };
}

export function rootList(roots: AccessRoots): string[] {
  return [roots.graphDir, roots.workspace, ...roots.granted];
}

/**
 * The real location of a path that may not exist yet (an output file): the real path of its
 * deepest existing ancestor, with the missing rest appended. Symlinks anywhere on the way are
 * resolved, so `inside/link-to-etc/passwd` is seen as `/etc/passwd`.
 */
export function realPath(path: string): string {
  const abs = resolve(path);
  const missing: string[] = [];
  let cur = abs;
  for (;;) {
    try {
      const real = realpathSync(cur);
      return missing.length === 0 ? real : join(real, ...missing.reverse());
    } catch {
      const parent = dirname(cur);
      if (parent === cur) return abs;
      missing.push(basename(cur));
      cur = parent;
    }
  }
}

export function isUnder(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** Is this path (resolved against the graph folder, symlinks followed) inside an allowed root? */
export function isAllowed(path: string, roots: AccessRoots): boolean {
  const real = realPath(isAbsolute(path) ? path : resolve(roots.graphDir, path));
  return rootList(roots).some((r) => isUnder(real, r));
}

/** The part of a glob before its first wildcard: the folder a pattern can reach into. */
export function globBase(pattern: string): string {
  const first = pattern.search(/[*?[{]/);
  if (first < 0) return pattern;
  const cut = pattern.slice(0, first);
  const slash = cut.lastIndexOf('/');
  return slash < 0 ? '.' : cut.slice(0, slash) || '/';
}

export class UnsafeFileError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = 'UnsafeFileError';
  }
}

/**
 * Devices, FIFOs and sockets never end (or block forever) when read: refuse them before anything
 * opens them. A missing path is left to the node, which names the param it came from.
 */
export function assertReadableKind(path: string): void {
  if (!existsSync(path)) return;
  const st = statSync(path);
  if (st.isFile() || st.isDirectory()) return;
  const kind = st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : 'not a regular file';
  throw new UnsafeFileError(`${path} is ${kind}; only regular files and folders can be read`, path);
}
