import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ProvenanceDb } from './provenance/db.js';
import { ProvenanceQueries } from './provenance/queries.js';
import { ArtifactStore } from './store/artifact-store.js';
import { hashFile } from './util/hash.js';

/**
 * A workspace is a folder with `.forge/` in it: the artifact store, staging, DuckDB spill space and
 * the provenance database. Opening one marks runs that a dead process left `running` as interrupted.
 */
export class Workspace {
  readonly root: string;
  readonly forgeDir: string;
  readonly tmpDir: string;
  readonly store: ArtifactStore;
  readonly db: ProvenanceDb;
  readonly queries: ProvenanceQueries;

  private constructor(root: string) {
    this.root = resolve(root);
    this.forgeDir = join(this.root, '.forge');
    this.tmpDir = join(this.forgeDir, 'tmp');
    mkdirSync(this.tmpDir, { recursive: true });
    this.store = new ArtifactStore(this.forgeDir);
    this.db = new ProvenanceDb(join(this.forgeDir, 'provenance.sqlite'));
    this.queries = new ProvenanceQueries(this.db);
  }

  static open(root: string): Workspace {
    const ws = new Workspace(root);
    ws.db.markInterruptedRuns();
    // SECURITY (concurrency): liveness is checked per folder, never from a snapshot taken earlier.
    ws.store.sweepStaging((id) => ws.db.isExecutionLive(id));
    return ws;
  }

  /**
   * Content hash of an input file. Hashes are memoised by (path, size, mtime) so a no-op rerun
   * does not reread gigabytes; a changed file always gets a new stat and so a fresh hash.
   */
  async fileHash(absPath: string): Promise<{ hash: string; bytes: number }> {
    const st = statSync(absPath, { bigint: true });
    const mtime = st.mtimeNs.toString();
    const size = Number(st.size);
    const memo = this.db.db.prepare('SELECT hash FROM file_hashes WHERE path = ? AND size = ? AND mtime_ns = ?').get(absPath, size, mtime) as { hash: string } | undefined;
    if (memo) return { hash: memo.hash, bytes: size };
    const { hash, bytes } = await hashFile(absPath);
    this.db.db.prepare('INSERT OR REPLACE INTO file_hashes (path, size, mtime_ns, hash) VALUES (?, ?, ?, ?)').run(absPath, size, mtime, hash);
    return { hash, bytes };
  }

  close(): void {
    this.db.close();
  }
}
