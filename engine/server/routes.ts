import { lstatSync } from 'node:fs';
import { lstat, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, relative, resolve, sep } from 'node:path';
import { globSync } from 'tinyglobby';
import { z } from 'zod';
import type { Engine } from '../engine.js';
import type { RunEvent } from '../exec/events.js';
import { PinMismatchError } from '../exec/input-files.js';
import { graphJsonSchema, type GraphDocument } from '../graph/document.js';
import { GraphLoadError } from '../graph/errors.js';
import { parseGraphText, parseGraphValue } from '../graph/load.js';
import type { RunMode } from '../provenance/events.js';
import { previewArtifact } from '../store/preview.js';
import { ENGINE_VERSION } from '../version.js';
import { isUnder, realPath } from '../security/access.js';
import { assessTrust, TrustStore, UntrustedGraphError } from '../security/trust.js';
import { AppSettings, GrantedFolderError } from '../security/granted-folders.js';
import { HttpError, sendJson } from './http-util.js';
import { ArtifactHash, readBody, readParam, readQuery } from './validate.js';
import { QueueUrl, workersRoute } from './workers-route.js';
import { QueueExecutor } from '../exec/queue/queue-executor.js';
import { labelsRoutes } from './labels-route.js';

export interface RunHub {
  broadcast(e: RunEvent): void;
}

const MAX_GRAPH_BYTES = 16 * 1024 * 1024;
const WorkspacePath = z.string().min(1).max(4096);
const DocBody = z.object({ doc: z.unknown() });
const TrustBody = z.object({ doc: z.unknown(), path: WorkspacePath.optional() });
const SaveBody = z.object({ doc: z.unknown(), path: WorkspacePath.regex(/\.forge\.json$/, 'graph files end in .forge.json') });
const RunBody = z.object({
  doc: z.unknown(),
  path: WorkspacePath.optional(),
  mode: z.enum(['all', 'node', 'from']).default('all'),
  target: z.string().min(1).optional(),
  force: z.boolean().default(false),
  continueOnFailure: z.boolean().default(false),
  trigger: z.string().max(64).default('ui'),
  /** Send work units to this BullMQ queue's `forge worker`s instead of local threads (the app's run setting). */
  queue: QueueUrl.optional(),
});
const PlanBody = RunBody.omit({ trigger: true, continueOnFailure: true, queue: true });
const GraphPathQuery = z.object({ path: WorkspacePath });
const FilesQuery = z.object({ pattern: z.string().max(1024).optional() });
const RunsQuery = z.object({ limit: z.coerce.number().int().min(1).max(10_000).default(50) });
/** Node ids as run events name them (`prep/filter` inside subgraph prep); a canvas asks for the nodes it shows. */
const RowHistoryBody = z.object({
  nodes: z.array(z.string().min(1).max(512)).min(1).max(5000),
  limit: z.number().int().min(1).max(200).default(16),
});
const PreviewQuery = z.object({ offset: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(1000).default(100) });

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, m: RegExpMatchArray) => Promise<void> | void;

/** The typed API the canvas uses; request and response shapes are in renderer/src/api/types.ts. */
export function createRoutes(engine: Engine, hub: RunHub) {
  const active = new Map<string, AbortController>();
  const q = engine.ws.queries;

  const realRoot = realPath(engine.ws.root);
  /** A workspace path, symlinks resolved: a link inside the workspace cannot lead a read or write out of it. */
  const insideWorkspace = (path: string): string => {
    const abs = resolve(engine.ws.root, path);
    const real = realPath(abs);
    if (!isUnder(abs, engine.ws.root) || !isUnder(real, realRoot)) throw new HttpError(403, `path ${path} is outside the workspace`);
    if (isUnder(real, realPath(engine.ws.forgeDir))) throw new HttpError(403, `path ${path} is inside the engine's private .forge folder`);
    return abs;
  };

  const artifactHash = (m: RegExpMatchArray): string => readParam(m[1], ArtifactHash, 'artifact');

  /** Assesses trust for a document sent by the app, relative to its graph file when it has one. */
  const assess = async (doc: GraphDocument, path: string | undefined) => {
    const graph = requireValid(doc, path);
    const abs = path ? insideWorkspace(path) : null;
    return assessTrust(graph, engine.registry, abs ? dirname(abs) : engine.ws.root, engine.ws.root, engine.allGranted());
  };

  const requireValid = (doc: GraphDocument, path?: string) => {
    try {
      return engine.requireValid(doc, path ? insideWorkspace(path) : undefined);
    } catch (err) {
      if (err instanceof GraphLoadError) throw new HttpError(400, err.message, { diagnostics: err.diagnostics });
      throw err;
    }
  };

  const docFromBody = (body: { doc?: unknown }): GraphDocument => {
    try {
      return parseGraphValue(body.doc);
    } catch (err) {
      if (err instanceof GraphLoadError) throw new HttpError(400, err.message, { diagnostics: err.diagnostics });
      throw err;
    }
  };

  const routes: [string, RegExp, Handler][] = [
    ['GET', /^\/api\/health$/, (_q, res) => sendJson(res, 200, { ok: true, version: ENGINE_VERSION, workspace: engine.ws.root })],
    [
      'GET',
      /^\/api\/node-types$/,
      (_q, res) =>
        sendJson(
          res,
          200,
          engine.registry.list().map((t) => engine.registry.info(t.type)),
        ),
    ],
    ['GET', /^\/api\/graph-schema$/, (_q, res) => sendJson(res, 200, graphJsonSchema())],
    workersRoute,
    ...labelsRoutes(engine, (path) => insideWorkspace(path)),
    [
      'POST',
      /^\/api\/validate$/,
      async (req, res) => {
        const body = await readBody(req, DocBody);
        try {
          const doc = parseGraphValue(body.doc);
          sendJson(res, 200, { diagnostics: engine.validate(doc).diagnostics });
        } catch (err) {
          if (err instanceof GraphLoadError) return sendJson(res, 200, { diagnostics: err.diagnostics });
          throw err;
        }
      },
    ],
    [
      'GET',
      /^\/api\/graphs$/,
      (_q, res) => {
        const files = globSync('**/*.forge.json', { cwd: engine.ws.root, ignore: ['**/node_modules/**', '**/.forge/**'], followSymbolicLinks: false }).sort();
        sendJson(
          res,
          200,
          files.map((path) => ({ path })),
        );
      },
    ],
    [
      'GET',
      /^\/api\/files$/,
      (_q, res, url) => {
        // The canvas's file picker: workspace files only (never outside it), capped for huge trees.
        const pattern = readQuery(url, FilesQuery).pattern || '**/*';
        if (pattern.includes('..') || pattern.startsWith('/')) throw new HttpError(400, 'pattern: patterns are relative to the workspace', { field: 'pattern' });
        // Symlinks are not followed: a link in the workspace must not list what lies outside it.
        const files = globSync(pattern, { cwd: engine.ws.root, ignore: ['**/node_modules/**', '**/.forge/**', '**/.git/**'], onlyFiles: true, dot: false, followSymbolicLinks: false })
          .sort()
          .slice(0, 5000);
        sendJson(
          res,
          200,
          files.map((path) => {
            let bytes = 0;
            try {
              bytes = lstatSync(resolve(engine.ws.root, path)).size;
            } catch {
              /* vanished between listing and stat */
            }
            return { path, bytes };
          }),
        );
      },
    ],
    [
      'GET',
      /^\/api\/graphs\/file$/,
      async (_q, res, url) => {
        const { path } = readQuery(url, GraphPathQuery);
        const abs = insideWorkspace(path);
        if (!path.endsWith('.forge.json')) throw new HttpError(400, 'path: only graph documents (*.forge.json) are served', { field: 'path' });
        const st = await lstat(abs).catch(() => null);
        if (!st) throw new HttpError(404, `cannot read ${path}: no such file`);
        // Only graph documents: never the provenance DB, a FIFO or anything else the workspace holds.
        if (!st.isFile()) throw new HttpError(400, `path: ${path} is not a regular file`, { field: 'path' });
        if (st.size > MAX_GRAPH_BYTES) throw new HttpError(413, `${path} is larger than a graph document can be (${MAX_GRAPH_BYTES} bytes)`);
        try {
          sendJson(res, 200, { path, doc: parseGraphText(await readFile(abs, 'utf8'), path) });
        } catch (err) {
          if (err instanceof GraphLoadError) throw new HttpError(400, err.message, { diagnostics: err.diagnostics });
          throw new HttpError(404, `cannot read ${path}: ${(err as Error).message}`);
        }
      },
    ],
    [
      'PUT',
      /^\/api\/graphs\/file$/,
      async (req, res) => {
        const body = await readBody(req, SaveBody);
        const path = body.path;
        const doc = docFromBody(body);
        const abs = insideWorkspace(path);
        await mkdir(dirname(abs), { recursive: true });
        const tmp = `${abs}.tmp-${process.pid}`;
        await writeFile(tmp, `${JSON.stringify(doc, null, 2)}\n`);
        await rename(tmp, abs);
        sendJson(res, 200, { path: relative(engine.ws.root, abs).split(sep).join('/') });
      },
    ],
    [
      'POST',
      /^\/api\/runs$/,
      async (req, res) => {
        const body = await readBody(req, RunBody);
        const doc = docFromBody(body);
        const path = body.path !== undefined ? insideWorkspace(body.path) : null;
        const mode: RunMode = body.mode;
        const controller = new AbortController();
        // Queue runs pass the same trust gate in engine.run as local ones: it runs before any unit is queued.
        let executor: QueueExecutor | undefined;
        if (body.queue) {
          try {
            executor = await QueueExecutor.connect(body.queue, engine.ws.store.forgeDir, engine.registry);
          } catch (err) {
            throw new HttpError(400, (err as Error).message, { field: 'queue' });
          }
        }
        let resolveStarted: (runId: string) => void = () => {};
        const started = new Promise<string>((r) => (resolveStarted = r));
        const finished = engine
          .run(doc, {
            file: path ?? undefined,
            baseDir: path ? dirname(path) : engine.ws.root,
            mode,
            target: body.target,
            force: body.force,
            continueOnFailure: body.continueOnFailure,
            trigger: body.trigger,
            executor,
            signal: controller.signal,
            onEvent: (e) => {
              if (e.type === 'run.started') {
                active.set(e.runId, controller);
                resolveStarted(e.runId);
              }
              if (e.type === 'run.finished') active.delete(e.runId);
              hub.broadcast(e);
            },
          })
          .then(() => null)
          .finally(() => executor?.close());
        try {
          const runId = await Promise.race([started, finished.then(() => null)]);
          sendJson(res, 202, { runId });
        } catch (err) {
          if (err instanceof GraphLoadError) throw new HttpError(400, err.message, { diagnostics: err.diagnostics });
          if (err instanceof PinMismatchError) throw new HttpError(409, err.message, { nodeId: err.nodeId, file: err.file });
          // SECURITY: the engine refused; the app shows its trust dialog with exactly these items.
          if (err instanceof UntrustedGraphError) {
            throw new HttpError(403, err.message, { needsTrust: err.assessment.needsTrust, fingerprint: err.assessment.fingerprint });
          }
          throw err;
        }
        finished.catch(() => {});
      },
    ],
    [
      'POST',
      /^\/api\/runs\/([^/]+)\/cancel$/,
      (_q, res, _u, m) => {
        const c = active.get(m[1] as string);
        if (!c) throw new HttpError(404, 'no such active run');
        c.abort();
        sendJson(res, 202, { cancelling: true });
      },
    ],
    [
      'POST',
      /^\/api\/trust\/check$/,
      async (req, res) => {
        const body = await readBody(req, TrustBody);
        const a = await assess(docFromBody(body), body.path);
        const trusted = a.needsTrust.length === 0 || new TrustStore(engine.ws).has(a.fingerprint);
        sendJson(res, 200, { trusted, fingerprint: a.fingerprint, needsTrust: a.needsTrust });
      },
    ],
    [
      'POST',
      /^\/api\/trust$/,
      async (req, res) => {
        // Called by the app's trust dialog (the user said yes) and for graphs the user wrote in the app.
        const body = await readBody(req, TrustBody);
        const a = await assess(docFromBody(body), body.path);
        if (a.needsTrust.length > 0) new TrustStore(engine.ws).add(a);
        sendJson(res, 200, { fingerprint: a.fingerprint, items: a.needsTrust });
      },
    ],
    ['GET', /^\/api\/settings$/, (_q, res) => sendJson(res, 200, { ...engine.settings.read(), sessionGranted: engine.granted })],
    [
      'PUT',
      /^\/api\/settings$/,
      async (req, res) => {
        const body = await readBody(req, AppSettings);
        try {
          sendJson(res, 200, { ...engine.settings.write(body), sessionGranted: engine.granted });
        } catch (err) {
          if (err instanceof GrantedFolderError) throw new HttpError(400, err.message, { field: err.field });
          throw err;
        }
      },
    ],
    ['GET', /^\/api\/runs$/, (_q, res, url) => sendJson(res, 200, q.listRuns(readQuery(url, RunsQuery).limit))],
    ['GET', /^\/api\/runs\/([^/]+)$/, (_q, res, _u, m) => sendJson(res, 200, q.run(resolveRun(m[1] as string)))],
    ['GET', /^\/api\/runs\/([^/]+)\/diff\/([^/]+)$/, (_q, res, _u, m) => sendJson(res, 200, q.diff(resolveRun(m[1] as string), resolveRun(m[2] as string)))],
    [
      'GET',
      /^\/api\/artifacts\/([^/]+)$/,
      (_q, res, _u, m) => {
        const a = q.artifact(artifactHash(m));
        if (!a) throw new HttpError(404, 'no such artifact');
        sendJson(res, 200, a);
      },
    ],
    [
      'GET',
      /^\/api\/artifacts\/([^/]+)\/preview$/,
      async (_q, res, url, m) => {
        const hash = artifactHash(m);
        const { offset, limit } = readQuery(url, PreviewQuery);
        if (!engine.ws.store.has(hash)) throw new HttpError(404, 'no such artifact');
        sendJson(
          res,
          200,
          await previewArtifact(engine.ws.store.ref(hash), engine.ws.tmpDir, offset, limit, (h) => (ArtifactHash.safeParse(h).success && engine.ws.store.has(h) ? engine.ws.store.ref(h) : null)),
        );
      },
    ],
    [
      // The row counts behind the sparklines on the canvas's nodes, for many nodes in one request.
      'POST',
      /^\/api\/row-history$/,
      async (req, res) => {
        const body = await readBody(req, RowHistoryBody);
        sendJson(res, 200, q.rowHistory(body.nodes, body.limit));
      },
    ],
    ['GET', /^\/api\/artifacts\/([^/]+)\/lineage$/, (_q, res, _u, m) => sendJson(res, 200, q.lineage(artifactHash(m)))],
    [
      // The plan the canvas shows (cached / will run, and why): the engine's, not a re-derivation.
      'POST',
      /^\/api\/plan$/,
      async (req, res) => {
        const body = await readBody(req, PlanBody);
        const doc = docFromBody(body);
        const path = body.path !== undefined ? insideWorkspace(body.path) : null;
        const mode: RunMode = body.mode;
        try {
          sendJson(
            res,
            200,
            await engine.plan(doc, {
              file: path ?? undefined,
              baseDir: path ? dirname(path) : engine.ws.root,
              mode,
              target: body.target,
              force: body.force,
            }),
          );
        } catch (err) {
          if (err instanceof GraphLoadError) throw new HttpError(400, err.message, { diagnostics: err.diagnostics });
          if (err instanceof PinMismatchError) throw new HttpError(409, err.message, { nodeId: err.nodeId, file: err.file });
          throw err;
        }
      },
    ],
    [
      'POST',
      /^\/api\/export$/,
      async (req, res) => {
        const body = await readBody(req, TrustBody);
        const doc = docFromBody(body);
        const path = body.path !== undefined ? insideWorkspace(body.path) : null;
        try {
          sendJson(res, 200, await engine.exportConfig(doc, path ? dirname(path) : engine.ws.root));
        } catch (err) {
          if (err instanceof GraphLoadError) throw new HttpError(400, err.message, { diagnostics: err.diagnostics });
          throw err;
        }
      },
    ],
  ];

  function resolveRun(ref: string): string {
    try {
      return q.resolveRunId(ref);
    } catch (err) {
      throw new HttpError(404, (err as Error).message);
    }
  }

  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    for (const [method, pattern, handler] of routes) {
      const m = url.pathname.match(pattern);
      if (m && req.method === method) return handler(req, res, url, m);
    }
    throw new HttpError(404, `no route ${req.method} ${url.pathname}`);
  };
}
