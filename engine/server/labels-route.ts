import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, relative, sep } from 'node:path';
import { z } from 'zod';
import type { Engine } from '../engine.js';
import { labelsFilePath, readLabelsFile, SampleHash, writeLabelsFile } from '../sdk/labels-file.js';
import { NodeError } from '../sdk/node-error.js';
import { HttpError, sendJson } from './http-util.js';
import { readBody, readQuery } from './validate.js';

/**
 * GET / PUT /api/labels: the hand labels of one labelling node's sample (see nodes/label-sample).
 * The file lives beside the graph (`labels/<node>/<sample>.json`) and is an input file of the node,
 * so a saved label makes it stale and the next run reads it.
 */

const NodeId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'node ids use letters, digits and _ . : - only');
const GraphPath = z.string().min(1).max(4096);
const LabelsQuery = z.object({ node: NodeId, sample: SampleHash, path: GraphPath.optional() });
const LabelsBody = z.object({
  node: NodeId,
  sample: SampleHash,
  path: GraphPath.optional(),
  labels: z.record(z.string().min(1).max(1000), z.boolean()).refine((l) => Object.keys(l).length <= 100_000, 'at most 100,000 labels'),
});

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;

/** `insideWorkspace` resolves a workspace-relative graph path, refusing anything outside it. */
export function labelsRoutes(engine: Engine, insideWorkspace: (path: string) => string): [string, RegExp, Handler][] {
  const where = (node: string, sample: string, path: string | undefined) => {
    const baseDir = path !== undefined ? dirname(insideWorkspace(path)) : engine.ws.root;
    const file = labelsFilePath(baseDir, node, sample);
    return { file, rel: relative(engine.ws.root, file).split(sep).join('/') };
  };
  return [
    [
      'GET',
      /^\/api\/labels$/,
      (_req, res, url) => {
        const q = readQuery(url, LabelsQuery);
        const { file, rel } = where(q.node, q.sample, q.path);
        let labels: Map<string, boolean>;
        try {
          labels = readLabelsFile(file, q.sample);
        } catch (err) {
          if (err instanceof NodeError) throw new HttpError(409, `${rel}: ${err.message}`, { file: rel });
          throw err;
        }
        sendJson(res, 200, { node: q.node, sample: q.sample, file: rel, labels: Object.fromEntries(labels) });
      },
    ],
    [
      'PUT',
      /^\/api\/labels$/,
      async (req, res) => {
        const body = await readBody(req, LabelsBody);
        const { file, rel } = where(body.node, body.sample, body.path);
        writeLabelsFile(file, { node: body.node, sample: body.sample, labels: body.labels });
        sendJson(res, 200, { file: rel, count: Object.keys(body.labels).length });
      },
    ],
  ];
}
