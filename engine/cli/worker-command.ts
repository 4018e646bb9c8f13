import { resolve } from 'node:path';
import { startQueueWorker } from '../exec/queue/queue-worker.js';
import type { NodeRegistry } from '../registry.js';

export { WORKER_HELP } from './worker-help.js';

/** `forge worker`: serves the queue until SIGINT/SIGTERM, then finishes its current units and exits. */
export async function workerCommand(o: { queue?: string; store?: string; concurrency?: string }, loadRegistry: () => Promise<NodeRegistry>): Promise<number> {
  if (!o.queue || !o.store) {
    process.stderr.write('forge worker needs --queue redis://host:port and --store <shared .forge folder>\n');
    return 2;
  }
  const w = await startQueueWorker({
    url: o.queue,
    store: resolve(o.store),
    registry: await loadRegistry(),
    concurrency: o.concurrency ? Number(o.concurrency) : 1,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  await new Promise<void>((done) => {
    const stop = () => done();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.stderr.write('worker stopping after its current units…\n');
  await w.close();
  return 0;
}
