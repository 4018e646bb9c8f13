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

export interface RunPythonOptions {
  python: string;
  /** The JSON config handed to train.py (written to `workDir/config.json`). */
  config: Record<string, unknown>;
  workDir: string;
  signal?: AbortSignal;
  onEvent?: (e: PyEvent) => void;
  /** Called with the child's pid once it is spawned. */
  onSpawn?: (pid: number) => void;
  /** Field to name in errors about the interpreter (a node's `params.python`). */
  pythonField?: string;
}

/**
 * Runs train.py in its own process group and resolves with its JSON events. An abort kills the
 * group (SIGTERM, then SIGKILL after 2 s) and rejects with CancelledError; a missing interpreter
 * or a missing torch become NodeErrors that say how to install it.
 */
export function runPython(opts: RunPythonOptions): Promise<PyEvent[]> {
  const cfgPath = join(opts.workDir, 'config.json');
  writeFileSync(cfgPath, JSON.stringify(opts.config));
  const field = opts.pythonField ?? 'params.python';
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new CancelledError());
    const child = spawn(opts.python, ['-u', TRAIN_SCRIPT, cfgPath], {
      cwd: opts.workDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
      env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
    });
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    const events: PyEvent[] = [];
    const stderr: string[] = [];
    let pending = '';
    let spawnError: NodeJS.ErrnoException | undefined;
    let killTimer: NodeJS.Timeout | undefined;
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
    opts.signal?.addEventListener('abort', onAbort, { once: true });
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
    child.on('close', (code, sig) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      if (opts.signal?.aborted) return reject(new CancelledError());
      if (spawnError) {
        const what = spawnError.code === 'ENOENT' ? `Python interpreter not found: ${opts.python}` : `cannot start ${opts.python}: ${spawnError.message}`;
        return reject(new NodeError(`${what}; ${INSTALL_HINT}`, { field }));
      }
      if (code === EXIT_NO_TORCH) return reject(new NodeError(`PyTorch is not installed for ${opts.python}; ${INSTALL_HINT}`, { field }));
      if (code !== 0) {
        const tail = stderr.slice(-STDERR_LINES).join('\n');
        return reject(new NodeError(`train.py failed (${sig ? `signal ${sig}` : `exit ${String(code)}`}): ${tail || 'no output'}`));
      }
      resolve(events);
    });
  });
}
