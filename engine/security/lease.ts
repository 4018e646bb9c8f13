import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledError } from '../sdk/node-error.js';
import type { Workspace } from '../workspace.js';
import { processAlive } from '../util/process.js';

const POLL_MS = 200;
const RELEASE = 'DELETE FROM execution_leases WHERE cache_key = ? AND execution_id = ?';

/**
 * One execution per cache key at a time, across every process sharing the workspace: an in-flight
 * lease row in SQLite. A second run that needs the same result waits for the first and then reuses
 * it from the cache instead of computing it again. Leases of dead processes are taken over.
 */
export class ExecutionLeases {
  private readonly host = hostname();

  constructor(private readonly ws: Workspace) {
    ws.db.db.exec(`CREATE TABLE IF NOT EXISTS execution_leases (
      cache_key TEXT PRIMARY KEY,
      execution_id TEXT NOT NULL,
      pid INTEGER NOT NULL,
      host TEXT NOT NULL,
      acquired_at TEXT NOT NULL
    )`);
  }

  /** Takes the lease for `key`; resolves `true` if it had to wait for another execution first. */
  async acquire(key: string, executionId: string, signal: AbortSignal): Promise<boolean> {
    const insert = this.ws.db.stmt('INSERT OR IGNORE INTO execution_leases (cache_key, execution_id, pid, host, acquired_at) VALUES (?, ?, ?, ?, ?)');
    const holder = this.ws.db.stmt('SELECT execution_id, pid, host FROM execution_leases WHERE cache_key = ?');
    const drop = this.ws.db.stmt(RELEASE);
    let waited = false;
    for (;;) {
      if (insert.run(key, executionId, process.pid, this.host, new Date().toISOString()).changes === 1) return waited;
      const h = holder.get(key) as { execution_id: string; pid: number; host: string } | undefined;
      // A holder on this host whose process is gone never releases: take over its lease.
      if (h && h.host === this.host && !processAlive(h.pid)) {
        drop.run(key, h.execution_id);
        continue;
      }
      if (signal.aborted) throw new CancelledError();
      waited = true;
      await sleep(POLL_MS);
    }
  }

  /** Safe to call twice: the second call finds no row (the finish transaction may already have released it). */
  release(key: string, executionId: string): void {
    this.ws.db.stmt(RELEASE).run(key, executionId);
  }
}
