import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { NodeType } from './sdk/types.js';
import { nodeCodeHash } from './exec/code-hash.js';

/** What the UI and the CLI learn about a node type, without its code: its declared shape, params as JSON Schema. */
export interface NodeTypeInfo extends Pick<NodeType, 'type' | 'version' | 'category' | 'title' | 'description' | 'inputs' | 'outputs' | 'deterministic'> {
  paramsSchema: Record<string, unknown>;
  worker: boolean;
  codeParams: string[];
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Where the built-in registry is composed; a URL, not an import, so `engine/` stays free of `nodes/`. */
export const DEFAULT_REGISTRY_MODULE = new URL('../composition/registry.ts', import.meta.url).href;

export class NodeRegistry {
  private readonly byType = new Map<string, NodeType>();
  private readonly codeHashes = new Map<string, { hash: string; files: string[] }>();
  /** JSON Schemas of params, made once per type: the trust gate and every execution's file-access check ask for them. */
  private readonly paramsSchemas = new Map<string, Record<string, unknown>>();

  /**
   * @param moduleUrl a module exporting `createRegistry()` that rebuilds this registry, so worker
   *   threads (and later remote executors) can resolve the same node types. Defaults to the
   *   composition root (`composition/registry.ts`), named by URL only: the engine never imports it.
   */
  constructor(
    types: readonly NodeType[],
    readonly moduleUrl: string = DEFAULT_REGISTRY_MODULE,
    /** Code hashes follow imports inside this folder only (the repository; tests use a temp tree). */
    private readonly codeRoot: string = REPO_ROOT,
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

  /** Hash of the code that can change the node's output: see engine/exec/code-hash.ts. */
  codeHash(type: string): string {
    return this.codeInfo(type).hash;
  }

  /** The code hash and the repo-relative files it covers. */
  codeInfo(type: string): { hash: string; files: string[] } {
    const cached = this.codeHashes.get(type);
    if (cached) return cached;
    const def = this.byType.get(type);
    if (!def) throw new Error(`unknown node type ${type}`);
    const info = nodeCodeHash(def, { root: this.codeRoot });
    this.codeHashes.set(type, info);
    return info;
  }

  private paramsSchema(def: NodeType): Record<string, unknown> {
    let schema = this.paramsSchemas.get(def.type);
    if (!schema) {
      schema = z.toJSONSchema(def.params, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
      this.paramsSchemas.set(def.type, schema);
    }
    return schema;
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
      paramsSchema: this.paramsSchema(def),
      deterministic: def.deterministic,
      worker: def.worker ?? false,
      codeParams: def.codeParams ?? [],
    };
  }
}
