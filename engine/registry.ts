import { readdirSync, readFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { NodeType, PortSpec } from './sdk/types.js';
import { sha256 } from './util/hash.js';

/** What the UI and the CLI learn about a node type, without its code. */
export interface NodeTypeInfo {
  type: string;
  version: number;
  category: string;
  title: string;
  description: string;
  inputs: Record<string, PortSpec>;
  outputs: Record<string, PortSpec>;
  paramsSchema: Record<string, unknown>;
  deterministic: boolean;
  worker: boolean;
  codeParams: string[];
}

const SOURCE_FILE = /\.(ts|js|mjs)$/;
const TEST_FILE = /\.(test|spec)\.(ts|js|mjs)$/;
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Where the built-in registry is composed; a URL, not an import, so `engine/` stays free of `nodes/`. */
export const DEFAULT_REGISTRY_MODULE = new URL('../composition/registry.ts', import.meta.url).href;
const LOCAL_IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

/** The files reachable from `start` through relative imports (`./x.js` resolves to `./x.ts`). */
function localClosure(start: string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [...start];
  while (stack.length > 0) {
    const file = stack.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(LOCAL_IMPORT)) {
      const target = resolve(dirname(file), m[1] as string);
      const candidates = [target, target.replace(/\.js$/, '.ts'), `${target}.ts`, join(target, 'index.ts')];
      const found = candidates.find((c) => SOURCE_FILE.test(c) && existsSync(c));
      if (found && found.startsWith(REPO_ROOT) && !found.includes('node_modules')) stack.push(found);
    }
  }
  return seen;
}

export class NodeRegistry {
  private readonly byType = new Map<string, NodeType>();
  private readonly codeHashes = new Map<string, string>();

  /**
   * @param moduleUrl a module exporting `createRegistry()` that rebuilds this registry, so worker
   *   threads (and later remote executors) can resolve the same node types. Defaults to the
   *   composition root (`composition/registry.ts`), named by URL only: the engine never imports it.
   */
  constructor(
    types: readonly NodeType[],
    readonly moduleUrl: string = DEFAULT_REGISTRY_MODULE,
  ) {
    for (const t of types) {
      if (this.byType.has(t.type)) throw new Error(`node type ${t.type} is registered twice`);
      this.byType.set(t.type, t);
    }
  }

  get(type: string): NodeType | undefined {
    return this.byType.get(type);
  }

  list(): NodeType[] {
    return [...this.byType.values()];
  }

  /**
   * Hash of the node's source: the files of its own folder (not tests or docs) plus every local
   * module they import, transitively (shared node libraries, the SDK), so editing any code a node
   * runs invalidates exactly the cache entries it produced.
   */
  codeHash(type: string): string {
    const cached = this.codeHashes.get(type);
    if (cached) return cached;
    const def = this.byType.get(type);
    if (!def) throw new Error(`unknown node type ${type}`);
    const dir = dirname(fileURLToPath(def.module));
    const own = readdirSync(dir)
      .filter((name) => SOURCE_FILE.test(name) && !TEST_FILE.test(name))
      .map((name) => join(dir, name));
    const files = localClosure(own);
    const parts: string[] = [];
    for (const file of [...files].sort()) parts.push(relative(REPO_ROOT, file), readFileSync(file, 'utf8'));
    const hash = sha256(parts.join('\u0000'));
    this.codeHashes.set(type, hash);
    return hash;
  }

  info(type: string): NodeTypeInfo {
    const def = this.byType.get(type);
    if (!def) throw new Error(`unknown node type ${type}`);
    return {
      type: def.type,
      version: def.version,
      category: def.category,
      title: def.title,
      description: def.description,
      inputs: def.inputs,
      outputs: def.outputs,
      paramsSchema: z.toJSONSchema(def.params, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
      deterministic: def.deterministic,
      worker: def.worker ?? false,
      codeParams: def.codeParams ?? [],
    };
  }
}

