import { createRequire } from 'node:module';

const { withThreadPool } = createRequire(import.meta.url)('../../bin/thread-pool.cjs') as { withThreadPool(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv };

/**
 * The environment of a `forge` child started with `node --import` (the peak-RSS preload). Loading
 * that module starts libuv's thread pool before bin/forge.cjs can size it, so the size users get
 * (cores + 4, unless set) is put in the environment here, before the child starts.
 */
export function cliChildEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return withThreadPool({ ...process.env, ...extra });
}
