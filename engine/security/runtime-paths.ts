import { isAbsolute, resolve } from 'node:path';
import { NodeError } from '../sdk/node-error.js';
import { isUnder, realPath } from './access.js';

/**
 * What one execution may open at run time, as plain data (it travels to worker threads): the
 * allowed roots, and the paths the node declared (path params, files it reads), all real paths.
 * A declared path outside the roots was part of the trust fingerprint, so the gate already asked
 * for it; anything else outside the roots was never shown to the user and is refused even under trust.
 */
export interface RuntimeAccess {
  roots: string[];
  declared: string[];
}

/**
 * `ctx.resolvePath` with the file-access policy applied: the path is resolved against the graph
 * folder, symlinks followed, and must land under an allowed root or a declared path.
 */
export function checkRuntimePath(path: string, baseDir: string, access: RuntimeAccess, nodeId: string, paramNames: readonly string[] = []): string {
  const abs = isAbsolute(path) ? path : resolve(baseDir, path);
  const real = realPath(abs);
  if (access.roots.some((r) => isUnder(real, r)) || access.declared.some((d) => isUnder(real, d))) return abs;
  const field = paramNames.length > 0 ? `params.${paramNames[0]}` : undefined;
  const named = field ? ` (${field})` : '';
  const via = real === abs ? '' : ` (it resolves to ${real})`;
  throw new NodeError(
    `node ${nodeId} opened ${path}${named}${via} at run time: it is outside the graph folder, the workspace and the granted folders, and the node did not declare it, so trust cannot cover it. Grant its folder (forge --allow <dir>, or Settings → Granted folders in the app) or move the file under the graph folder.`,
    { nodeId, file: path, ...(field ? { field } : {}) },
  );
}

/** The params whose value is exactly this path, to name the param in the refusal. */
export function paramsHolding(params: Record<string, unknown>, path: string): string[] {
  return Object.entries(params)
    .filter(([, v]) => v === path)
    .map(([k]) => k);
}
