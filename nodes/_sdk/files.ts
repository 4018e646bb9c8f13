import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { globSync } from 'tinyglobby';
import { expandedSize } from '../../engine/sdk/security.js';
import { NodeError } from '../../engine/sdk/node-error.js';

/**
 * A path param that may be a file, a folder (searched with `include`), or a glob. Returns absolute
 * paths, sorted, so the same files load in the same order everywhere.
 */
export function expandPath(path: string, baseDir: string, include: string): string[] {
  const abs = isAbsolute(path) ? path : resolve(baseDir, path);
  if (existsSync(abs)) {
    if (!statSync(abs).isDirectory()) return [abs];
    return globSync(include, { cwd: abs, onlyFiles: true, absolute: true }).sort();
  }
  if (/[*?[{]/.test(path)) return globSync(path, { cwd: baseDir, onlyFiles: true, absolute: true }).sort();
  return [];
}

/**
 * A file as stored in artifacts and shown in errors: relative to the graph's folder (`../data/x.json`
 * included), so the same project in another folder gives the same bytes and hashes.
 */
export function relPath(baseDir: string, abs: string): string {
  const r = relative(baseDir, abs);
  return isAbsolute(r) ? abs : r.split(sep).join('/');
}

/** 1-based line of a character offset. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** JSON.parse with the error located at a line of the file. */
export function parseJsonFile(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const pos = /position (\d+)/.exec(msg);
    const lc = /line (\d+) column/.exec(msg);
    const line = lc ? Number(lc[1]) : pos ? lineAt(text, Number(pos[1])) : undefined;
    throw new NodeError(`invalid JSON: ${msg.replace(/\s*\(line \d+ column \d+\)/, '')}`, { file, line });
  }
}

export interface YamlModule {
  load(text: string, opts?: Record<string, unknown>): unknown;
}

/**
 * js-yaml is not a declared dependency of the app (it is present only through dev tooling), so
 * YAML support is best-effort: loaded on demand, with a clear message when it is missing.
 */
export async function loadYaml(): Promise<YamlModule | null> {
  const name = 'js-yaml';
  try {
    const mod = (await import(name)) as { default?: YamlModule } & Partial<YamlModule>;
    const m = mod.default ?? (mod as YamlModule);
    return typeof m.load === 'function' ? m : null;
  } catch {
    return null;
  }
}

export async function parseYamlFile(text: string, file: string): Promise<unknown> {
  const yaml = await loadYaml();
  if (!yaml) throw new NodeError('YAML needs the js-yaml package, which is not installed; convert the spec to JSON or add js-yaml', { file, line: 1 });
  let doc: unknown;
  try {
    doc = yaml.load(text, { json: true });
  } catch (err) {
    const e = err as Error & { mark?: { line?: number } };
    throw new NodeError(`invalid YAML: ${e.message.split('\n')[0]}`, { file, line: e.mark?.line !== undefined ? e.mark.line + 1 : undefined });
  }
  // Aliases share objects, so a tiny file can stand for billions of values once walked (engine/security/bounded.ts).
  if (expandedSize(doc, MAX_YAML_VALUES) > MAX_YAML_VALUES) {
    throw new NodeError(`YAML aliases expand to more than ${MAX_YAML_VALUES.toLocaleString('en')} values; refusing it (an alias bomb?)`, { file, line: 1 });
  }
  return doc;
}

const MAX_YAML_VALUES = 5_000_000;

export function readText(abs: string): string {
  return readFileSync(abs, 'utf8');
}
