import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { NODE_TYPES } from '../../nodes/index.js';
import { Engine } from '../engine.js';
import { nodeCodeHash } from '../exec/code-hash.js';
import type { GraphDocument } from '../graph/document.js';
import { NodeRegistry } from '../registry.js';
import { defineNode, type NodeType } from '../sdk/types.js';
import { executedNodes, cachedNodes, REPO } from './helpers.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'forge-codehash-'));
  made.push(d);
  return d;
}

/** A small tree of node folders and shared libraries, written as source text. */
function fixtureTree(): string {
  const root = tempDir();
  const files: Record<string, string> = {
    'lib/shared.ts': 'export const k = 2;\n',
    'lib/shapes.ts': 'export interface Shape { a: number }\n',
    // Type-only import (erased at run time) plus TypeScript that trips a plain JS lexer (`x! / k`).
    'lib/other.ts': "import type { Shape } from './shapes.js';\nimport { k } from './shared.js';\nexport const half = (x: Shape): number => x.a! / k;\n",
    'tuning.ts': 'export const MEMORY = "768MB";\n',
    'a/index.ts': "import { k } from '../lib/shared.js';\nimport { MEMORY } from '../tuning.js';\nexport const a = [k, MEMORY];\n",
    'b/index.ts': "import { half } from '../lib/other.js';\nexport const b = half({ a: 4 });\n",
    'c/index.ts': "import { readFileSync } from 'node:fs';\nexport const schema = () => readFileSync(new URL('./schema.proto', import.meta.url), 'utf8');\n",
    'c/schema.proto': 'syntax = "proto3";\n',
    'd/index.ts': 'export const d = 1;\n',
    'd/train.py': 'print("train")\n',
    'd/index.test.ts': 'export {};\n',
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const fixtureDefs = (root: string) => ({
  a: { module: pathToFileURL(join(root, 'a/index.ts')).href },
  b: { module: pathToFileURL(join(root, 'b/index.ts')).href },
  c: { module: pathToFileURL(join(root, 'c/index.ts')).href },
  d: { module: pathToFileURL(join(root, 'd/index.ts')).href, codeFiles: ['train.py'] },
});

function hashesOf(root: string, exclude: string[] = ['tuning.ts']): Record<string, string> {
  return Object.fromEntries(Object.entries(fixtureDefs(root)).map(([id, def]) => [id, nodeCodeHash(def, { root, exclude }).hash]));
}

function changedAfter(root: string, edit: () => void): string[] {
  const before = hashesOf(root);
  edit();
  const after = hashesOf(root);
  return Object.keys(before).filter((k) => before[k] !== after[k]);
}

describe('code hashes follow the real module graph', () => {
  it('lists imported modules, files opened by URL and declared files; not type-only imports, tests or excluded files', () => {
    const root = fixtureTree();
    const files = (id: keyof ReturnType<typeof fixtureDefs>) => nodeCodeHash(fixtureDefs(root)[id], { root, exclude: ['tuning.ts'] }).files;
    expect(files('a')).toEqual(['a/index.ts', 'lib/shared.ts']);
    expect(files('b')).toEqual(['b/index.ts', 'lib/other.ts', 'lib/shared.ts']);
    expect(files('c')).toEqual(['c/index.ts', 'c/schema.proto']);
    expect(files('d')).toEqual(['d/index.ts', 'd/train.py']);
    expect(nodeCodeHash(fixtureDefs(root).a, { root, exclude: [] }).files).toEqual(['a/index.ts', 'lib/shared.ts', 'tuning.ts']);
  });

  it('editing a shared library changes exactly its users; a type-only dependency, an excluded file or a test changes none', () => {
    const root = fixtureTree();
    expect(changedAfter(root, () => appendFileSync(join(root, 'lib/shared.ts'), 'export const unused = 3;\n'))).toEqual(['a', 'b']);
    expect(changedAfter(root, () => appendFileSync(join(root, 'lib/shapes.ts'), 'export interface More { b: string }\n'))).toEqual([]);
    expect(changedAfter(root, () => writeFileSync(join(root, 'tuning.ts'), 'export const MEMORY = "1GB";\n'))).toEqual([]);
    expect(changedAfter(root, () => appendFileSync(join(root, 'd/index.test.ts'), '// more\n'))).toEqual([]);
    expect(changedAfter(root, () => appendFileSync(join(root, 'c/schema.proto'), 'message M {}\n'))).toEqual(['c']);
    expect(changedAfter(root, () => appendFileSync(join(root, 'd/train.py'), 'print("v2")\n'))).toEqual(['d']);
  });

  it('a declared code file that does not exist is an error naming it', () => {
    const root = fixtureTree();
    expect(() => nodeCodeHash({ ...fixtureDefs(root).d, codeFiles: ['gone.py'] }, { root })).toThrow(/gone\.py is declared in codeFiles but does not exist/);
  });
});

describe('code hashes of the built-in node types', () => {
  // A copy of the engine and node sources, so the test can edit files without touching the checkout.
  const root = tempDir();
  for (const dir of ['engine', 'nodes']) cpSync(join(REPO, dir), join(root, dir), { recursive: true, filter: (src) => !src.includes('node_modules') && !src.includes(`${dir}/test/fixtures`) });
  const defs = NODE_TYPES.map((t) => ({ type: t.type, module: pathToFileURL(join(root, relative(REPO, fileURLToPath(t.module)))).href, codeFiles: t.codeFiles }));
  const all = () => Object.fromEntries(defs.map((d) => [d.type, nodeCodeHash(d, { root })]));

  it('editing the DuckDB memory default changes no node type; editing the ONNX proto changes exactly its users', () => {
    const before = all();
    const duckdb = join(root, 'engine/store/duckdb.ts');
    writeFileSync(duckdb, readFileSync(duckdb, 'utf8').replace("DEFAULT_MEMORY_LIMIT = '768MB'", "DEFAULT_MEMORY_LIMIT = '2GB'"));
    expect(readFileSync(duckdb, 'utf8')).toContain("'2GB'");
    const afterDuckdb = all();
    expect(defs.filter((d) => afterDuckdb[d.type]?.hash !== before[d.type]?.hash).map((d) => d.type)).toEqual([]);

    const proto = 'nodes/_sdk/onnx/onnx-subset.proto';
    const users = defs.filter((d) => before[d.type]?.files.includes(proto)).map((d) => d.type);
    expect(users.length).toBeGreaterThan(0);
    expect(users.length).toBeLessThan(defs.length);
    appendFileSync(join(root, proto), '\n// edited\n');
    const afterProto = all();
    expect(defs.filter((d) => afterProto[d.type]?.hash !== before[d.type]?.hash).map((d) => d.type)).toEqual(users);
  });
});

describe('a run reruns exactly the nodes whose code changed', () => {
  it('after a shared-library edit its user reruns and the other node is reused; a type-only dependency edit reruns nothing', async () => {
    const root = fixtureTree();
    const def = (type: string, folder: string): NodeType =>
      defineNode({
        type,
        version: 1,
        category: 'Test',
        title: type,
        description: 'writes a constant',
        inputs: {},
        outputs: { out: { kind: 'metrics' } },
        params: z.object({}),
        deterministic: true,
        async run(ctx) {
          writeFileSync(ctx.output('out').file('metrics.json'), JSON.stringify({ type }));
        },
        module: pathToFileURL(join(root, folder, 'index.ts')).href,
      });
    const types = [def('fx.a', 'a'), def('fx.c', 'c')];
    const doc: GraphDocument = {
      format: 'forge-graph',
      version: 2,
      seed: 1,
      nodes: [
        { id: 'uses_shared', type: 'fx.a', params: {} },
        { id: 'uses_proto', type: 'fx.c', params: {} },
      ],
      edges: [],
    };
    const project = tempDir();
    const run = async () => {
      // A fresh registry, as after a restart: code hashes are computed once per registry.
      const engine = Engine.open(project, new NodeRegistry(types, undefined, root));
      try {
        const summary = await engine.run(doc, { baseDir: project });
        return { executed: executedNodes(engine, summary.runId), cached: cachedNodes(engine, summary.runId) };
      } finally {
        engine.close();
      }
    };
    expect((await run()).executed).toEqual(['uses_proto', 'uses_shared']);
    appendFileSync(join(root, 'lib/shared.ts'), 'export const extra = 1;\n');
    expect(await run()).toEqual({ executed: ['uses_shared'], cached: ['uses_proto'] });
    // lib/shapes.ts reaches a/ only through `import type` in lib/other.ts (used by neither test node's runtime graph).
    appendFileSync(join(root, 'lib/shapes.ts'), 'export interface Unused { z: number }\n');
    expect(await run()).toEqual({ executed: [], cached: ['uses_proto', 'uses_shared'] });
  });
});
