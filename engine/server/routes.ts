import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, relative, resolve, sep } from 'node:path';
import { globSync } from 'tinyglobby';
import type { Engine } from '../engine.js';
import type { RunEvent } from '../exec/events.js';
import { PinMismatchError } from '../exec/input-files.js';
import { graphJsonSchema, type GraphDocument } from '../graph/document.js';
import { GraphLoadError } from '../graph/errors.js';
import { parseGraphText, parseGraphValue } from '../graph/load.js';
import type { RunMode } from '../provenance/events.js';
import { previewArtifact } from '../store/preview.js';
import { ENGINE_VERSION } from '../version.js';
import { HttpError, readJson, sendJson } from './http-util.js';
import { workersRoute } from './workers-route.js';

export interface RunHub {
  broadcast(e: RunEvent): void;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, m: RegExpMatchArray) => Promise<void> | void;

/** The typed API the canvas uses; see engine/server/api.md for the contract. */
export function createRoutes(engine: Engine, hub: RunHub) {
  const active = new Map<string, AbortController>();
  const q = engine.ws.queries;

  const insideWorkspace = (path: string): string => {
    const abs = resolve(engine.ws.root, path);
    if (abs !== engine.ws.root && !abs.startsWith(engine.ws.root + sep)) throw new HttpError(403, `path ${path} is outside the workspace`);
    return abs;
  };

  const docFromBody = (body: Record<string, unknown>): GraphDocument => {
    try {
      return parseGraphValue(body.doc);
    } catch (err) {
      if (err instanceof GraphLoadError) throw new HttpError(400, err.message, { diagnostics: err.diagnostics });
      throw err;
    }
  };

  const routes: [string, RegExp, Handler][] = [
    ['GET', /^\/api\/health$/, (_q, res) => sendJson(res, 200, { ok: true, version: ENGINE_VERSION, workspace: engine.ws.root })],
    ['GET', /^\/api\/node-types$/, (_q, res) => sendJson(res, 200, engine.registry.list().map((t) => engine.registry.info(t.type)))],
    ['GET', /^\/api\/graph-schema$/, (_q, res) => sendJson(res, 200, graphJsonSchema())],
    workersRoute,
    [
      'POST',
      /^\/api\/validate$/,
      async (req, res) => {
        const body = (await readJson(req)) as Record<string, unknown>;
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
        const files = globSync('**/*.forge.json', { cwd: engine.ws.root, ignore: ['**/node_modules/**', '**/.forge/**'] }).sort();
        sendJson(res, 200, files.map((path) => ({ path })));
      },
    ],
    [
      'GET',
      /^\/api\/files$/,
      (_q, res, url) => {
        // The canvas's file picker: workspace files only (never outside it), capped for huge trees.
        const pattern = url.searchParams.get('pattern') || '**/*';
        if (pattern.includes('..') || pattern.startsWith('/')) throw new HttpError(400, 'patterns are relative to the workspace');
        const files = globSync(pattern, { cwd: engine.ws.root, ignore: ['**/node_modules/**', '**/.forge/**', '**/.git/**'], onlyFiles: true, dot: false })
          .sort()
          .slice(0, 5000);
        sendJson(
          res,
          200,
          files.map((path) => {
            let bytes = 0;
            try {
              bytes = statSync(resolve(engine.ws.root, path)).size;
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
      (_q, res, url) => {
        const path = url.searchParams.get('path') ?? '';
        const abs = insideWorkspace(path);
        try {
          sendJson(res, 200, { path, doc: parseGraphText(readFileSync(abs, 'utf8'), path) });
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
        const body = (await readJson(req)) as Record<string, unknown>;
        const path = String(body.path ?? '');
        if (!path.endsWith('.forge.json')) throw new HttpError(400, 'graph files end in .forge.json');
        const doc = docFromBody(body);
        const abs = insideWorkspace(path);
        mkdirSync(dirname(abs), { recursive: true });
        const tmp = `${abs}.tmp-${process.pid}`;
        writeFileSync(tmp, `${JSON.stringify(doc, null, 2)}\n`);
        renameSync(tmp, abs);
        sendJson(res, 200, { path: relative(engine.ws.root, abs).split(sep).join('/') });
      },
    ],
    [
      'POST',
      /^\/api\/runs$/,
      async (req, res) => {
        const body = (await readJson(req)) as Record<string, unknown>;
        const doc = docFromBody(body);
        const path = typeof body.path === 'string' ? insideWorkspace(body.path) : null;
        const mode = (body.mode ?? 'all') as RunMode;
        if (!['all', 'node', 'from'].includes(mode)) throw new HttpError(400, `unknown mode ${String(mode)}`);
        const controller = new AbortController();
        let resolveStarted: (runId: string) => void = () => {};
        const started = new Promise<string>((r) => (resolveStarted = r));
        const finished = engine
          .run(doc, {
            file: path ?? undefined,
            baseDir: path ? dirname(path) : engine.ws.root,
            mode,
            target: typeof body.target === 'string' ? body.target : undefined,
            force: body.force === true,
            trigger: typeof body.trigger === 'string' ? body.trigger : 'ui',
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
          .then(() => null);
        try {
          const runId = await Promise.race([started, finished.then(() => null)]);
          sendJson(res, 202, { runId });
        } catch (err) {
          if (err instanceof GraphLoadError) throw new HttpError(400, err.message, { diagnostics: err.diagnostics });
          if (err instanceof PinMismatchError) throw new HttpError(409, err.message, { nodeId: err.nodeId, file: err.file });
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
    ['GET', /^\/api\/runs$/, (_q, res, url) => sendJson(res, 200, q.listRuns(Number(url.searchParams.get('limit') ?? 50)))],
    ['GET', /^\/api\/runs\/([^/]+)$/, (_q, res, _u, m) => sendJson(res, 200, q.run(resolveRun(m[1] as string)))],
    ['GET', /^\/api\/runs\/([^/]+)\/diff\/([^/]+)$/, (_q, res, _u, m) => sendJson(res, 200, q.diff(resolveRun(m[1] as string), resolveRun(m[2] as string)))],
    [
      'GET',
      /^\/api\/artifacts\/([^/]+)$/,
      (_q, res, _u, m) => {
        const a = q.artifact(decodeURIComponent(m[1] as string));
        if (!a) throw new HttpError(404, 'no such artifact');
        sendJson(res, 200, a);
      },
    ],
    [
      'GET',
      /^\/api\/artifacts\/([^/]+)\/preview$/,
      async (_q, res, url, m) => {
        const hash = decodeURIComponent(m[1] as string);
        if (!engine.ws.store.has(hash)) throw new HttpError(404, 'no such artifact');
        const limit = Math.min(1000, Number(url.searchParams.get('limit') ?? 100));
        sendJson(res, 200, await previewArtifact(engine.ws.store.ref(hash), engine.ws.tmpDir, Number(url.searchParams.get('offset') ?? 0), limit, (h) => (engine.ws.store.has(h) ? engine.ws.store.ref(h) : null)));
      },
    ],
    ['GET', /^\/api\/artifacts\/([^/]+)\/lineage$/, (_q, res, _u, m) => sendJson(res, 200, q.lineage(decodeURIComponent(m[1] as string)))],
    [
      'POST',
      /^\/api\/export$/,
      async (req, res) => {
        const body = (await readJson(req)) as Record<string, unknown>;
        const doc = docFromBody(body);
        const path = typeof body.path === 'string' ? insideWorkspace(body.path) : null;
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
