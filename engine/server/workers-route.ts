import type { IncomingMessage, ServerResponse } from 'node:http';
import { listWorkers } from '../exec/queue/queue-executor.js';
import { HttpError, sendJson } from './http-util.js';

/**
 * GET /api/workers: the queue this engine sends units to (FORGE_QUEUE, a redis:// address) and the
 * `forge worker` processes connected to it, each with the units it is running. Without a queue the
 * list is empty: every unit runs in local threads.
 */
export const workersRoute: [string, RegExp, (req: IncomingMessage, res: ServerResponse) => Promise<void>] = [
  'GET',
  /^\/api\/workers$/,
  async (_req, res) => {
    const queue = process.env.FORGE_QUEUE;
    if (!queue) return sendJson(res, 200, { queue: null, workers: [] });
    try {
      sendJson(res, 200, { queue, workers: await listWorkers(queue) });
    } catch (err) {
      throw new HttpError(503, `cannot list workers on ${queue}: ${(err as Error).message}`);
    }
  },
];
