// A module's local import specifiers, cached on disk by the hash of its source. Finding them strips
// TypeScript through esbuild first (engine/exec/code-hash.ts), which cost ~0.2 s of every `forge run`
// of a three-node graph. What it finds depends only on the source bytes and the parser, so every
// process, in any workspace, may reuse it: a changed file has a new hash and is parsed again.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { version as esbuildVersion } from 'esbuild';

/** Specifiers as written in the module (relative), before resolution against its folder. */
export interface ParsedImports {
  /** Relative module specifiers imported at run time. */
  modules: string[];
  /** Relative URLs of files opened through `new URL('./x', import.meta.url)`. */
  assets: string[];
}

/** Bumped when what is parsed out of a module changes. */
const FORMAT = 1;

export class SpecifierCache {
  private entries: Record<string, ParsedImports> = {};
  private dirty = false;

  /** @param file where the cache lives; null: in memory only. */
  constructor(private readonly file: string | null) {
    if (!file) return;
    try {
      const data = JSON.parse(readFileSync(file, 'utf8')) as { format?: number; entries?: Record<string, ParsedImports> };
      if (data.format === FORMAT && data.entries && typeof data.entries === 'object') this.entries = data.entries;
    } catch {
      // Missing or unreadable: start empty; it is only a cache.
    }
  }

  get(sourceHash: string): ParsedImports | undefined {
    const e = this.entries[sourceHash];
    return e && Array.isArray(e.modules) && Array.isArray(e.assets) ? e : undefined;
  }

  set(sourceHash: string, parsed: ParsedImports): void {
    this.entries[sourceHash] = parsed;
    this.dirty = true;
  }

  /** Writes new entries (atomically: processes writing at once lose entries, never corrupt the file). */
  save(): void {
    if (!this.file || !this.dirty) return;
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      writeFileSync(tmp, JSON.stringify({ format: FORMAT, entries: this.entries }), { mode: 0o600 });
      renameSync(tmp, this.file);
      this.dirty = false;
    } catch {
      rmSync(tmp, { force: true });
    }
  }
}

let shared: SpecifierCache | undefined;

/**
 * The per-user cache in the system temp folder, in a folder only this user can write: a cache
 * others could edit could drop a dependency from a code hash. Anything else gets a memory-only cache.
 */
export function userSpecifierCache(): SpecifierCache {
  shared ??= new SpecifierCache(userCacheFile());
  return shared;
}

function userCacheFile(): string | null {
  try {
    const { uid } = userInfo();
    const dir = join(tmpdir(), `forge-studio-${uid}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = statSync(dir);
    if (uid >= 0 && st.uid !== uid) return null;
    if ((st.mode & 0o022) !== 0) return null;
    return join(dir, `code-deps-esbuild-${esbuildVersion}.json`);
  } catch {
    return null;
  }
}
