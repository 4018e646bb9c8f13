import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { utilityProcess, type UtilityProcess } from 'electron';

export interface RunningEngine {
  url: string;
  token: string;
  workspace: string;
  stop(): void;
}

const HOST_SCRIPT = fileURLToPath(new URL('../engine-host.mjs', import.meta.url));
/** The CLI's rule for libuv's thread pool (bin/thread-pool.cjs), shipped with the app under bin/. */
const { withThreadPool } = createRequire(import.meta.url)('../../bin/thread-pool.cjs') as { withThreadPool(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv };

/**
 * Starts the engine server outside the renderer. Packaged builds use an Electron utility process
 * (native modules are rebuilt for Electron by electron-builder); in development the engine runs
 * on the system Node, whose ABI the installed native modules (better-sqlite3, DuckDB) match.
 */
export function startEngine(opts: { workspace: string; packaged: boolean; onExit(code: number | null): void }): Promise<RunningEngine> {
  const token = randomBytes(24).toString('hex');
  // DuckDB's queries run on libuv's thread pool, sized once at start, as the CLI sizes it.
  const env = withThreadPool({ ...process.env, FORGE_WORKSPACE: opts.workspace, FORGE_TOKEN: token });
  let child: ChildProcess | UtilityProcess;
  if (opts.packaged) {
    child = utilityProcess.fork(HOST_SCRIPT, [], { env, stdio: 'pipe', serviceName: 'Forge engine' });
  } else {
    child = spawn(process.env.FORGE_NODE ?? 'node', [HOST_SCRIPT], { env: { ...env, FORGE_EXIT_ON_STDIN_END: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  }
  let ready = false;
  return new Promise((resolve, reject) => {
    let buffered = '';
    const errors: string[] = [];
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const m = line.match(/^FORGE_ENGINE_READY (.*)$/);
        if (m && !ready) {
          ready = true;
          const info = JSON.parse(m[1] as string) as { url: string; workspace: string };
          resolve({
            url: info.url,
            token,
            workspace: info.workspace,
            stop: () => {
              if ('postMessage' in child) child.postMessage('stop');
              child.kill();
            },
          });
        } else process.stdout.write(`[engine] ${line}\n`);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      errors.push(text);
      process.stderr.write(`[engine] ${text}`);
    });
    const onExit = (code: number | null) => {
      if (!ready) reject(new Error(`the engine exited before it was ready (code ${code}): ${errors.join('').slice(-2000)}`));
      else opts.onExit(code);
    };
    if (opts.packaged) (child as UtilityProcess).on('exit', onExit);
    else (child as ChildProcess).on('exit', onExit);
  });
}
