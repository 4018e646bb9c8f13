import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { ArtifactFile, ArtifactManifest, ArtifactRef, OutputDescriptor } from '../sdk/types.js';
import { hashFile, hashValue, stripPrefix } from '../util/hash.js';

const MANIFEST = 'manifest.json';
const HASH_HEX = /^[0-9a-f]{64}$/;

export function isArtifactHash(hash: string): boolean {
  return HASH_HEX.test(stripPrefix(hash));
}
/** Separates the execution id from the port (or a node's side file) in staging names; UUIDs have no dots. */
const SEP = '.';

/**
 * Content-addressed artifacts under `<workspace>/.forge/artifacts/<aa>/<hash>/`.
 * Nodes write into a staging folder; `publish` hashes the files and renames the folder into place,
 * so a crash or a failure never leaves a half-written artifact where a reader could find it.
 */
export class ArtifactStore {
  readonly artifactsDir: string;
  readonly stagingDir: string;

  constructor(readonly forgeDir: string) {
    this.artifactsDir = join(forgeDir, 'artifacts');
    this.stagingDir = join(forgeDir, 'staging');
    mkdirSync(this.artifactsDir, { recursive: true });
    mkdirSync(this.stagingDir, { recursive: true });
  }

  pathOf(hash: string): string {
    const hex = stripPrefix(hash);
    // An id that is not a hash (`../..`) must never become a path.
    if (!isArtifactHash(hash)) throw new Error(`not an artifact hash: ${JSON.stringify(hash.slice(0, 80))}`);
    return join(this.artifactsDir, hex.slice(0, 2), hex);
  }

  has(hash: string): boolean {
    if (!isArtifactHash(hash)) return false;
    return existsSync(join(this.pathOf(hash), MANIFEST));
  }

  manifest(hash: string): ArtifactManifest {
    const path = join(this.pathOf(hash), MANIFEST);
    if (!existsSync(path)) throw new Error(`artifact ${hash} is not in this workspace's store`);
    return JSON.parse(readFileSync(path, 'utf8')) as ArtifactManifest;
  }

  ref(hash: string): ArtifactRef {
    const manifest = this.manifest(hash);
    return { hash, kind: manifest.kind, dir: this.pathOf(hash), manifest };
  }

  /**
   * A fresh, empty staging folder for one output of one execution: `staging/<executionId>.<port>`.
   * One flat folder per output, not a folder per execution holding one per port: a cold node then
   * creates and removes one folder fewer, and folder creation is the slowest call in its overhead.
   */
  createStaging(executionId: string, port: string): string {
    const dir = join(this.stagingDir, `${executionId}${SEP}${port}`);
    try {
      mkdirSync(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') mkdirSync(dir, { recursive: true });
      else if (code !== 'EEXIST') throw err;
    }
    return dir;
  }

  /** Removes whatever an execution left in staging (after a publish: nothing; after a failure: its outputs). */
  discardStaging(executionId: string): void {
    const prefix = `${executionId}${SEP}`;
    let names: string[];
    try {
      names = readdirSync(this.stagingDir);
    } catch {
      return;
    }
    for (const name of names) {
      if (name.startsWith(prefix)) rmSync(join(this.stagingDir, name), { recursive: true, force: true });
    }
  }

  /** Staging folders left by a killed process hold nothing anyone can reference: remove them. */
  sweepStaging(isLive: (executionId: string) => boolean): number {
    const dead = new Set<string>();
    for (const name of readdirSync(this.stagingDir)) {
      const executionId = name.split(SEP)[0] as string;
      if (isLive(executionId)) continue;
      rmSync(join(this.stagingDir, name), { recursive: true, force: true });
      dead.add(executionId);
    }
    return dead.size;
  }

  /**
   * What is wrong with a stored artifact, or null when it is intact: the manifest must still hash to
   * the artifact's id and every listed file must exist with its recorded size. Small files (and all
   * files when `deep`) are rehashed too, so an edited metrics.json is caught on use.
   */
  verify(hash: string, opts: { deep?: boolean } = {}): string | null {
    return this.inspect(hash, opts).problem;
  }

  /** `verify`, also handing back the manifest it read when the artifact is intact (one read on a cache hit, not two). */
  inspect(hash: string, opts: { deep?: boolean } = {}): { problem: string; manifest: null } | { problem: null; manifest: ArtifactManifest } {
    const problem = (p: string) => ({ problem: p, manifest: null }) as const;
    if (!isArtifactHash(hash)) return problem('not an artifact hash');
    const dir = this.pathOf(hash);
    let manifest: ArtifactManifest;
    try {
      manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as ArtifactManifest;
    } catch (err) {
      return problem(`manifest.json is missing or unreadable (${(err as Error).message})`);
    }
    const { kind, files, rows, schema, meta } = manifest;
    if (manifest.hash !== hash || hashValue('forge-artifact-v1', { kind, files, rows, schema, meta }) !== hash) return problem('manifest.json was changed');
    for (const f of files) {
      const abs = join(dir, f.path);
      let size: number;
      try {
        const st = statSync(abs);
        if (!st.isFile()) return problem(`${f.path} is not a file`);
        size = st.size;
      } catch {
        return problem(`${f.path} is missing`);
      }
      if (size !== f.bytes) return problem(`${f.path} has ${size} bytes, ${f.bytes} were published`);
      if ((opts.deep || size <= SMALL_FILE) && hashFileSync(abs, size) !== f.hash) return problem(`${f.path} was changed (its content hash differs)`);
    }
    return { problem: null, manifest };
  }

  /** Moves a damaged artifact aside (kept for inspection) so that it can be recomputed and republished. */
  quarantine(hash: string): string {
    const to = join(this.forgeDir, 'quarantine', `${stripPrefix(hash)}-${Date.now()}`);
    mkdirSync(join(to, '..'), { recursive: true });
    renameSync(this.pathOf(hash), to);
    return to;
  }

  /** Every artifact hash in the store (for `forge verify`). */
  list(): string[] {
    const out: string[] = [];
    for (const a of safeReaddir(this.artifactsDir)) for (const b of safeReaddir(join(this.artifactsDir, a))) out.push(`sha256:${b}`);
    return out.filter(isArtifactHash).sort();
  }

  async publish(stagingDir: string, descriptor: OutputDescriptor): Promise<ArtifactManifest> {
    const files: ArtifactFile[] = [];
    for (const path of listFiles(stagingDir)) {
      const { hash, bytes } = await hashFile(join(stagingDir, path));
      files.push({ path, hash, bytes });
    }
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const content = {
      kind: descriptor.kind,
      files,
      rows: descriptor.rows,
      schema: descriptor.schema,
      meta: descriptor.meta,
    };
    const hash = hashValue('forge-artifact-v1', content);
    const manifest: ArtifactManifest = {
      hash,
      ...content,
      bytes: files.reduce((n, f) => n + f.bytes, 0),
    };
    writeFileSync(join(stagingDir, MANIFEST), JSON.stringify(manifest, null, 2));
    const target = this.pathOf(hash);
    // A damaged copy under the same id must not win over the fresh one (`--force` repairs it).
    if (this.has(hash) && this.verify(hash) !== null) this.quarantine(hash);
    if (this.has(hash)) {
      rmSync(stagingDir, { recursive: true, force: true });
      return manifest;
    }
    const parent = join(target, '..');
    if (!existsSync(parent)) mkdirSync(parent, { recursive: true });
    try {
      renameSync(stagingDir, target);
    } catch (err) {
      // Another execution published identical content a moment earlier: keep theirs.
      if (!this.has(hash)) throw err;
      rmSync(stagingDir, { recursive: true, force: true });
    }
    return manifest;
  }
}

/** Files up to this size are rehashed on every use: cheap, and it catches edited metrics and reports. */
const SMALL_FILE = 1024 * 1024;
const CHUNK = 1 << 20;

/** Synchronous (cache checks are), in 1 MiB reads so a large shard never sits in memory whole. */
function hashFileSync(path: string, size: number): string {
  const h = createHash('sha256');
  // A small file in one read: allocating the 1 MiB chunk buffer cost more than hashing a metrics file.
  if (size <= CHUNK) return `sha256:${h.update(readFileSync(path)).digest('hex')}`;
  const buf = Buffer.allocUnsafe(CHUNK);
  const fd = openSync(path, 'r');
  try {
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return `sha256:${h.digest('hex')}`;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function listFiles(root: string, dir = root): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const abs = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(root, abs));
    else if (entry.isFile() && !(dir === root && entry.name === MANIFEST)) out.push(relative(root, abs).split(sep).join('/'));
  }
  return out;
}
