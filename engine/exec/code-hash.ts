import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initSync, parse } from 'es-module-lexer';
import { transformSync } from 'esbuild';
import { sha256 } from '../util/hash.js';
import { userSpecifierCache, type ParsedImports, type SpecifierCache } from './code-deps-cache.js';

/**
 * A node's code hash covers exactly what can change its output:
 *  - the source files of its own folder (not tests, not docs);
 *  - every local module they import at run time, transitively: TypeScript is first stripped of
 *    types by esbuild (as tsx does when it runs the node, so type-only imports drop out exactly as
 *    at run time), then a real ES module lexer (es-module-lexer) lists static and literal dynamic
 *    imports;
 *  - files a module opens relative to itself (`new URL('./x.proto', import.meta.url)`: protos,
 *    worker scripts) and files the node declares in `codeFiles` (Python scripts, data tables);
 *  - minus engine internals that cannot change any node's output (EXCLUDED_FROM_CODE_HASH).
 * Packages in node_modules are versioned by the lockfile and recorded in each run's environment.
 */

/** Repo-relative files that never reach a cache key: runtime tuning, not computation. */
export const EXCLUDED_FROM_CODE_HASH: readonly string[] = [
  // DuckDB memory limit, threads and allocator flushing: they change speed and peak memory, never rows.
  'engine/store/duckdb.ts',
];

const SOURCE_FILE = /\.(ts|mts|js|mjs)$/;
const TEST_FILE = /\.(test|spec)\.(ts|mts|js|mjs)$/;
const TYPE_ONLY = /^(import|export)\s+type\s/;
const ASSET_URL = /new\s+URL\(\s*(['"])(\.{1,2}\/[^'"]+)\1\s*,\s*$/;

let lexerReady = false;
/** Parsed dependencies by file and mtime: shared by every registry in the process. */
const parsed = new Map<string, { modules: string[]; assets: string[] }>();

export interface CodeGraphOptions {
  /** Files outside this folder (and anything in node_modules) are not followed. */
  root: string;
  /** Repo-relative paths (forward slashes) left out; defaults to EXCLUDED_FROM_CODE_HASH. */
  exclude?: readonly string[];
}

/** One module's local dependencies: imported modules and files it opens by URL. */
export function localDependencies(file: string, cache: SpecifierCache = userSpecifierCache()): { modules: string[]; assets: string[] } {
  const key = `${file}\u0000${statSync(file).mtimeMs}`;
  const known = parsed.get(key);
  if (known) return known;
  const raw = readFileSync(file, 'utf8');
  // TypeScript is stripped before lexing and JavaScript is not: the same bytes parse differently.
  const sourceHash = sha256(`${/\.m?ts$/.test(file) ? 'ts' : 'js'}\u0000${raw}`);
  let found = cache.get(sourceHash);
  if (!found) {
    found = parseImports(raw, file);
    cache.set(sourceHash, found);
  }
  const dir = dirname(file);
  const deps = {
    modules: found.modules.map((spec) => resolveModule(resolve(dir, spec))).filter((m): m is string => m !== undefined),
    assets: found.assets.map((url) => resolve(dir, url)),
  };
  parsed.set(key, deps);
  return deps;
}

/** The relative specifiers a module imports at run time and the files it opens relative to itself. */
export function parseImports(raw: string, file: string): ParsedImports {
  if (!lexerReady) {
    initSync();
    lexerReady = true;
  }
  let source = raw;
  let imports: ReturnType<typeof parse>[0];
  try {
    if (/\.m?ts$/.test(file)) source = transformSync(raw, { loader: 'ts', format: 'esm', target: 'esnext', sourcefile: file }).code;
    [imports] = parse(source, file);
  } catch (err) {
    throw new Error(`code hash: cannot parse ${file}: ${(err as Error).message}`);
  }
  const modules: string[] = [];
  const assets: string[] = [];
  for (const imp of imports) {
    if (imp.t === 3) {
      // `import.meta`: is it the base of `new URL('./relative', import.meta.url)`?
      const before = source.slice(Math.max(0, imp.s - 300), imp.s);
      const m = ASSET_URL.exec(before);
      if (m) assets.push(m[2] as string);
      continue;
    }
    const spec = imp.n;
    if (!spec || !spec.startsWith('.')) continue;
    if (imp.d === -1 && TYPE_ONLY.test(source.slice(imp.ss, imp.se))) continue;
    modules.push(spec);
  }
  return { modules, assets };
}

function resolveModule(target: string): string | undefined {
  const candidates = [target, target.replace(/\.js$/, '.ts'), target.replace(/\.mjs$/, '.mts'), `${target}.ts`, join(target, 'index.ts')];
  return candidates.find((c) => SOURCE_FILE.test(c) && existsSync(c) && statSync(c).isFile());
}

/** Every file a set of entry modules depends on (themselves included), with the files it opens. */
export function codeGraph(entries: readonly string[], extraFiles: readonly string[], opts: CodeGraphOptions): string[] {
  const excluded = new Set((opts.exclude ?? EXCLUDED_FROM_CODE_HASH).map((p) => resolve(opts.root, p)));
  const inside = (f: string) => (f === opts.root || f.startsWith(opts.root + sep)) && !f.split(sep).includes('node_modules') && !excluded.has(f);
  const seen = new Set<string>();
  const stack = entries.filter(inside);
  while (stack.length > 0) {
    const file = stack.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!SOURCE_FILE.test(file)) continue;
    const { modules, assets } = localDependencies(file);
    for (const m of modules) if (inside(m)) stack.push(m);
    // Only files: `new URL('../..', import.meta.url)` names a folder (a repo root), not code.
    for (const a of assets) if (inside(a) && existsSync(a) && statSync(a).isFile()) stack.push(a);
  }
  for (const f of extraFiles) {
    if (!existsSync(f)) throw new Error(`code hash: ${f} is declared in codeFiles but does not exist`);
    if (inside(f)) seen.add(f);
  }
  userSpecifierCache().save();
  return [...seen].sort();
}

/** The source files of a node's own folder: what `module` (its `import.meta.url`) points into. */
export function ownSourceFiles(moduleUrl: string): string[] {
  const dir = dirname(fileURLToPath(moduleUrl));
  return readdirSync(dir)
    .filter((name) => SOURCE_FILE.test(name) && !TEST_FILE.test(name))
    .map((name) => join(dir, name));
}

/** The code hash of a node type, and the files it covers (repo-relative, for `forge nodes --json` and tests). */
export function nodeCodeHash(def: { module: string; codeFiles?: readonly string[] }, opts: CodeGraphOptions): { hash: string; files: string[] } {
  const dir = dirname(fileURLToPath(def.module));
  const files = codeGraph(
    ownSourceFiles(def.module),
    (def.codeFiles ?? []).map((f) => resolve(dir, f)),
    opts,
  );
  const parts: string[] = [];
  for (const file of files) parts.push(relative(opts.root, file).split(sep).join('/'), readFileSync(file, 'utf8'));
  return { hash: sha256(parts.join('\u0000')), files: files.map((f) => relative(opts.root, f).split(sep).join('/')) };
}
