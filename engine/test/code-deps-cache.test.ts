// The on-disk cache of parsed import specifiers (engine/exec/code-deps-cache.ts): keyed by the
// module's bytes, so a changed module is parsed again and a broken cache file is only a miss.
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SpecifierCache } from '../exec/code-deps-cache.js';
import { localDependencies } from '../exec/code-hash.js';

const root = mkdtempSync(join(tmpdir(), 'forge-code-deps-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(name: string, text: string, mtimeSeconds: number): string {
  const file = join(root, name);
  writeFileSync(file, text);
  // The in-process memo is keyed by mtime: give each version its own.
  utimesSync(file, mtimeSeconds, mtimeSeconds);
  return file;
}

describe('code dependency cache', () => {
  write('b.ts', 'export const b = 1;\n', 1000);
  write('c.ts', 'export const c = 1;\n', 1000);
  write('t.ts', 'export interface T { n: number }\n', 1000);

  it('stores what a module imports at run time, and a new process reads it back instead of parsing', () => {
    const cacheFile = join(root, 'cache-1.json');
    const a = write('a.ts', "import type { T } from './t.js';\nimport { b } from './b.js';\nexport const a = (x: T) => x.n + b;\n", 2000);
    const first = new SpecifierCache(cacheFile);
    expect(localDependencies(a, first).modules).toEqual([join(root, 'b.ts')]);
    first.save();
    const stored = JSON.parse(readFileSync(cacheFile, 'utf8')) as { entries: Record<string, { modules: string[] }> };
    expect(Object.values(stored.entries)).toEqual([{ modules: ['./b.js'], assets: [] }]);

    // A planted entry for these exact bytes is what a reader uses: proof that it reads the cache rather than parsing.
    const key = Object.keys(stored.entries)[0] as string;
    writeFileSync(cacheFile, JSON.stringify({ format: 1, entries: { [key]: { modules: ['./c.js'], assets: [] } } }));
    const a2 = write('a.ts', readFileSync(a, 'utf8'), 2001);
    expect(localDependencies(a2, new SpecifierCache(cacheFile)).modules).toEqual([join(root, 'c.ts')]);
  });

  it('parses a changed module again (its bytes are the key)', () => {
    const cacheFile = join(root, 'cache-2.json');
    const cache = new SpecifierCache(cacheFile);
    const v1 = write('m.ts', "import { b } from './b.js';\nexport const m = b;\n", 3000);
    expect(localDependencies(v1, cache).modules).toEqual([join(root, 'b.ts')]);
    const v2 = write('m.ts', "import { c } from './c.js';\nexport const m = c;\n", 3001);
    expect(localDependencies(v2, cache).modules).toEqual([join(root, 'c.ts')]);
  });

  it('treats an unreadable or foreign cache file as empty', () => {
    const cacheFile = join(root, 'cache-3.json');
    writeFileSync(cacheFile, '{ not json');
    const broken = new SpecifierCache(cacheFile);
    const n = write('n.ts', "import { b } from './b.js';\nexport const n = b;\n", 4000);
    expect(localDependencies(n, broken).modules).toEqual([join(root, 'b.ts')]);
    writeFileSync(cacheFile, JSON.stringify({ format: 999, entries: { x: { modules: ['./c.js'], assets: [] } } }));
    expect(new SpecifierCache(cacheFile).get('x')).toBeUndefined();
  });
});
