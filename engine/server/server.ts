import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Engine } from '../engine.js';
import { hasValidToken, isLoopbackAddress, originAllowed } from './auth.js';
import { HttpError, sendJson } from './http-util.js';
import { createRoutes, type RunHub } from './routes.js';
import type { RunEvent } from '../exec/events.js';

export interface ServerOptions {
  port?: number;
  host?: string;
  /** Fixed token (tests, Electron's main process); random otherwise. */
  token?: string;
  /** Folder with the built UI (index.html); defaults to renderer/dist when it exists. */
  uiDir?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ttf': 'font/ttf',
  '.woff2': 'font/woff2',
};

/** Monaco needs workers from blob: and inline styles; nothing may load from outside this origin. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' ws://127.0.0.1:* ws://localhost:*; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/**
 * The engine's HTTP + WebSocket API, loopback only, every /api request authenticated by token.
 * The desktop app and `forge serve` both use this, so the UI's code path is the same in both.
 */
export async function startServer(engine: Engine, opts: ServerOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopbackAddress(host)) throw new Error(`refusing to listen on ${host}: the engine serves on loopback only (tunnel over SSH to reach it remotely)`);
  const token = opts.token ?? randomBytes(24).toString('hex');
  const uiDir = opts.uiDir ?? fileURLToPath(new URL('../../renderer/dist/', import.meta.url));
  const sockets = new Set<WebSocket>();
  const hub: RunHub = {
    broadcast(e: RunEvent) {
      const text = JSON.stringify(e);
      for (const s of sockets) if (s.readyState === s.OPEN) s.send(text);
    },
  };
  const routes = createRoutes(engine, hub);
  let port = 0;

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) sendJson(res, err.status, { error: err.message, ...err.body });
      else sendJson(res, 500, { error: (err as Error).message });
    });
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!originAllowed(req, port)) throw new HttpError(403, 'forbidden origin or host');
    if (!url.pathname.startsWith('/api/')) return serveStatic(uiDir, url.pathname, res);
    if (!hasValidToken(req, url, token)) throw new HttpError(401, 'missing or wrong token');
    await routes(req, res, url);
  };

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/api/events' || !originAllowed(req, port) || !hasValidToken(req, url, token)) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
    });
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolveListen());
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      for (const s of sockets) s.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function serveStatic(uiDir: string, pathname: string, res: ServerResponse): void {
  const headers = { 'content-security-policy': CONTENT_SECURITY_POLICY, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };
  const root = resolve(uiDir);
  if (!existsSync(join(root, 'index.html'))) {
    res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>Forge engine</title><p>The Forge engine is running. The UI has not been built: run <code>npm run build:ui</code>.</p>');
    return;
  }
  let file = normalize(join(root, decodeURIComponent(pathname)));
  if (!file.startsWith(root + sep) && file !== root) throw new HttpError(404, 'not found');
  if (!existsSync(file) || statSync(file).isDirectory()) file = join(root, 'index.html');
  res.writeHead(200, { ...headers, 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
  res.end(readFileSync(file));
}
