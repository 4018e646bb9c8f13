import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { listWorkers } from '../exec/queue/queue-executor.js';
import { shownUrl } from '../exec/queue/redis.js';
import { HttpError, sendJson } from './http-util.js';
import { readQuery } from './validate.js';

/** A queue address as the app sends it (the run setting); the engine connects to nothing else. */
export const QueueUrl = z
  .string()
  .max(2048)
  .regex(/^redis:\/\/[^\s]+$/, 'the queue is a redis://host:port address');
const WorkersQuery = z.object({ queue: QueueUrl.optional() });

/**
 * GET /api/workers[?queue=redis://…]: the `forge worker` processes connected to that queue (the app's
 * run setting) or to FORGE_QUEUE, each with the units it is running. Without a queue the list is
 * empty: every unit runs in local threads.
 */
export const workersRoute: [string, RegExp, (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>] = [
  'GET',
  /^\/api\/workers$/,
  async (_req, res, url) => {
    const queue = readQuery(url, WorkersQuery).queue ?? process.env.FORGE_QUEUE;
    if (!queue) return sendJson(res, 200, { queue: null, workers: [] });
    try {
      sendJson(res, 200, { queue: shownUrl(queue), workers: await listWorkers(queue) });
    } catch (err) {
      throw new HttpError(503, `cannot list workers on ${shownUrl(queue)}: ${(err as Error).message}`);
    }
  },
];
