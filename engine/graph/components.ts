import { lstatSync } from 'node:fs';
import { resolve } from 'node:path';
import { isUnder, realPath } from '../security/access.js';
import { loadGraphFile } from './load.js';
import type { LoadedComponent } from './subgraph.js';

/** Library components live here by convention (the canvas saves there); any workspace path is allowed. */
export const COMPONENTS_DIR = 'components';
const MAX_COMPONENT_BYTES = 16 * 1024 * 1024;

/**
 * Reads library components for subgraph nodes. SECURITY: a component path is resolved against the
 * workspace with symlinks followed and must stay inside it (never in the engine's private .forge
 * folder), so a shared graph cannot make the engine read an arbitrary file as a component.
 */
export function workspaceComponentLoader(workspace: string, forgeDir: string): (path: string) => LoadedComponent {
  const realRoot = realPath(workspace);
  const realForge = realPath(forgeDir);
  return (path) => {
    const abs = resolve(workspace, path);
    const real = realPath(abs);
    if (!isUnder(abs, resolve(workspace)) || !isUnder(real, realRoot)) throw new Error('the file is outside the workspace');
    if (isUnder(real, realForge)) throw new Error("the file is inside the engine's private .forge folder");
    let size: number;
    try {
      const st = lstatSync(real);
      if (!st.isFile()) throw new Error('not a regular file');
      size = st.size;
    } catch (err) {
      throw new Error((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file in the workspace' : (err as Error).message);
    }
    if (size > MAX_COMPONENT_BYTES) throw new Error(`larger than a graph document can be (${MAX_COMPONENT_BYTES} bytes)`);
    return { doc: loadGraphFile(real), key: real };
  };
}
