// An engine on a temp project, served over HTTP with a token, for tests of the server routes. One
// list of what was started, closed by `closeServed` in `afterEach`, so a failed assertion never
// leaves a server listening or a database open.
import type { Engine } from '../engine.js';
import { startServer, type RunningServer } from '../server/server.js';
import { openEngine, tempProject } from './helpers.js';

export interface Served {
  project: string;
  engine: Engine;
  server: RunningServer;
  /** `http://127.0.0.1:<port>` */
  base: string;
  token: string;
  /** A GET with the token. */
  get(path: string): Promise<Response>;
  /** A request with the token and a JSON body (a string is sent as it is). */
  send(path: string, body: unknown, method?: string): Promise<Response>;
}

const started: Served[] = [];

export async function serveProject(project = tempProject()): Promise<Served> {
  const engine = openEngine(project);
  const server = await startServer(engine, { port: 0 });
  const base = `http://127.0.0.1:${server.port}`;
  const auth = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
  const served: Served = {
    project,
    engine,
    server,
    base,
    token: server.token,
    get: (path) => fetch(`${base}${path}`, { headers: auth }),
    send: (path, body, method = 'POST') => fetch(`${base}${path}`, { method, headers: auth, body: typeof body === 'string' ? body : JSON.stringify(body) }),
  };
  started.push(served);
  return served;
}

export async function closeServed(): Promise<void> {
  for (const s of started.splice(0)) {
    await s.server.close();
    s.engine.close();
  }
}
