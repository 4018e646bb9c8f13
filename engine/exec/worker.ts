import type { MessagePort } from 'node:worker_threads';
import { CancelledError, NodeError } from '../sdk/node-error.js';
import { executeUnit } from './execute-unit.js';
import { registryOf } from './registry-of.js';
import type { UnitResult, WorkUnit } from './work-unit.js';

export interface WorkerTask {
  unit: WorkUnit;
  port: MessagePort;
}

export type WorkerMessage = { type: 'progress'; done: number; total?: number; message?: string } | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

export type WorkerOutcome = { ok: true; result: UnitResult } | { ok: false; error: { name: string; message: string; location?: NodeError['location']; stack?: string } };

/**
 * Piscina entry: runs one unit and reports progress and logs over the task's MessagePort.
 * Errors cross the thread boundary as plain data so NodeError locations survive.
 */
export default async function runInWorker(task: WorkerTask): Promise<WorkerOutcome> {
  const { unit, port } = task;
  const registry = await registryOf(unit.registryModule);
  const def = registry.get(unit.nodeType);
  if (!def) return { ok: false, error: { name: 'Error', message: `worker does not know node type ${unit.nodeType}` } };
  const controller = new AbortController();
  try {
    const result = await executeUnit(
      def,
      unit,
      {
        progress: (done, total, message) => port.postMessage({ type: 'progress', done, total, message } satisfies WorkerMessage),
        log: (level, message) => port.postMessage({ type: 'log', level, message } satisfies WorkerMessage),
      },
      controller.signal,
    );
    return { ok: true, result };
  } catch (err) {
    const e = err as Error;
    return {
      ok: false,
      error: { name: e.name, message: e.message, location: err instanceof NodeError ? err.location : undefined, stack: err instanceof CancelledError ? undefined : e.stack },
    };
  } finally {
    port.close();
  }
}
