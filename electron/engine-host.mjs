// The engine, as its own process: Electron's main process starts this file (a utility process in
// the packaged app, plain Node in development) so a crashing node never takes the window down.
// It serves the engine API + the built UI on 127.0.0.1 with the token it is given, and reports
// its port on stdout as one line: FORGE_ENGINE_READY {"port":…,"url":…}.
import { register } from 'tsx/esm/api';

register();
const workspace = process.env.FORGE_WORKSPACE;
const token = process.env.FORGE_TOKEN;
if (!workspace || !token) {
  process.stderr.write('engine-host: FORGE_WORKSPACE and FORGE_TOKEN are required\n');
  process.exit(2);
}
const { Engine } = await import('../engine/engine.ts');
const { startServer } = await import('../engine/server/server.ts');
const { defaultRegistry } = await import('../composition/registry.ts');
const engine = Engine.open(workspace, defaultRegistry());
const server = await startServer(engine, { token, port: Number(process.env.FORGE_PORT ?? 0) });
process.stdout.write(`FORGE_ENGINE_READY ${JSON.stringify({ port: server.port, url: server.url.replace(/\?.*$/, ''), workspace: engine.ws.root })}\n`);

const stop = async () => {
  await server.close().catch(() => {});
  engine.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
// A utility process hears its parent through parentPort; a plain Node child (development) stops
// when its parent's end of stdin closes, so a killed shell never leaves an orphan engine.
const parentPort = /** @type {{ on(e: string, f: (m: unknown) => void): void } | undefined} */ (process.parentPort);
parentPort?.on('message', (m) => {
  if (m && typeof m === 'object' && 'data' in m && m.data === 'stop') void stop();
});
if (process.env.FORGE_EXIT_ON_STDIN_END === '1') {
  process.stdin.on('end', () => void stop());
  process.stdin.resume();
}
