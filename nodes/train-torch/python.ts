import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CancelledError, NodeError } from '../../engine/sdk/node-error.js';

/** The trainer/scorer script that lives beside this module. */
export const TRAIN_SCRIPT = fileURLToPath(new URL('./train.py', import.meta.url));
/** Debian's python3-torch installs into the system interpreter, not into pyenv/venv ones. */
export const DEFAULT_PYTHON = '/usr/bin/python3';
/** train.py exits with this when `import torch` fails. */
const EXIT_NO_TORCH = 3;
const STDERR_LINES = 30;

export const INSTALL_HINT =
  "install PyTorch for it: on Debian/Ubuntu `sudo apt install python3-torch` (CPU, used by /usr/bin/python3), or `pip install torch --index-url https://download.pytorch.org/whl/cu121` in a virtualenv (CUDA) and set the node's python param to that venv's bin/python";

export type PyEvent = Record<string, unknown> & { event: string };

export interface StartPythonOptions {
  python: string;
  workDir: string;
  signal?: AbortSignal;
  onEvent?: (e: PyEvent) => void;
  /** Called with the child's pid once it is spawned. */
  onSpawn?: (pid: number) => void;
  /** Field to name in errors about the interpreter (a node's `params.python`). */
  pythonField?: string;
}

export interface RunPythonOptions extends StartPythonOptions {
  /** The JSON config handed to train.py (also written to `workDir/config.json` for reruns by hand). */
  config: Record<string, unknown>;
}

/** A started train.py that has imported torch (or is doing so) and waits for its config on stdin. */
export interface PythonProcess {
  /** Hands over the config and resolves with every JSON event once train.py exits cleanly. */
  send(config: Record<string, unknown>): Promise<PyEvent[]>;
  /** Stops a process that will get no config (the caller failed before sending one). */
  stop(): void;
}

/**
 * Starts train.py in its own process group before its input is ready: importing torch takes
 * seconds, so the caller tokenizes meanwhile and then sends the config. An abort kills the group
 * (SIGTERM, then SIGKILL after 2 s) and rejects with CancelledError; a missing interpreter or a
 * missing torch become NodeErrors that say how to install it.
 */
export function startPython(opts: StartPythonOptions): PythonProcess {
  const field = opts.pythonField ?? 'params.python';
  const child = spawn(opts.python, ['-u', TRAIN_SCRIPT, '-'], {
    cwd: opts.workDir,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: process.platform !== 'win32',
    env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
  });
  if (child.pid !== undefined) opts.onSpawn?.(child.pid);
  // A child that already exited (no torch, no interpreter) makes the write fail with EPIPE; its
  // exit status, reported below, is the error worth showing.
  child.stdin.on('error', () => undefined);
  const events: PyEvent[] = [];
  const stderr: string[] = [];
  let pending = '';
  let spawnError: NodeJS.ErrnoException | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  const kill = (sig: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(process.platform === 'win32' ? child.pid : -child.pid, sig);
    } catch {
      // already gone
    }
  };
  const onAbort = () => {
    kill('SIGTERM');
    killTimer = setTimeout(() => kill('SIGKILL'), 2000);
  };
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (!line) continue;
      try {
        const e = JSON.parse(line) as PyEvent;
        events.push(e);
        opts.onEvent?.(e);
      } catch {
        stderr.push(line);
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr.push(...chunk.split('\n').filter((l) => l.trim()));
    if (stderr.length > STDERR_LINES * 4) stderr.splice(0, stderr.length - STDERR_LINES);
  });
  child.on('error', (err: NodeJS.ErrnoException) => (spawnError = err));
  const done = new Promise<PyEvent[]>((resolve, reject) => {
    child.on('close', (code, sig) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      if (opts.signal?.aborted) return reject(new CancelledError());
      if (spawnError) {
        const what = spawnError.code === 'ENOENT' ? `Python interpreter not found: ${opts.python}` : `cannot start ${opts.python}: ${spawnError.message}`;
        return reject(new NodeError(`${what}; ${INSTALL_HINT}`, { field }));
      }
      if (code === EXIT_NO_TORCH) return reject(new NodeError(`PyTorch is not installed for ${opts.python}; ${INSTALL_HINT}`, { field }));
      if (stopped) return reject(new CancelledError());
      if (code !== 0) {
        const tail = stderr.slice(-STDERR_LINES).join('\n');
        return reject(new NodeError(`train.py failed (${sig ? `signal ${sig}` : `exit ${String(code)}`}): ${tail || 'no output'}`));
      }
      resolve(events);
    });
  });
  // Nobody may be listening yet (the caller is still tokenizing): a failure waits for send().
  done.catch(() => undefined);
  return {
    send(config) {
      writeFileSync(join(opts.workDir, 'config.json'), JSON.stringify(config));
      child.stdin.end(`${JSON.stringify(config)}\n`);
      return done;
    },
    stop() {
      stopped = true;
      child.stdin.destroy();
      kill('SIGKILL');
    },
  };
}

/** Starts train.py and hands it the config at once (scoring, benchmarks, tests). */
export function runPython(opts: RunPythonOptions): Promise<PyEvent[]> {
  if (opts.signal?.aborted) return Promise.reject(new CancelledError());
  return startPython(opts).send(opts.config);
}
