'use strict';
// DuckDB's Node binding runs every query on libuv's thread pool (4 threads unless told otherwise),
// so single-threaded lanes beyond 4 would queue behind each other on a machine with more cores, and
// a pipe feeding a lane needs pool threads of its own. libuv reads the size once, when the pool
// first starts: it must be in the environment before the process loads any ES module.
const { availableParallelism } = require('node:os');

/** `env` with a pool of one thread per core plus 4 for file I/O, unless the user set one. */
function withThreadPool(env) {
  if (env.UV_THREADPOOL_SIZE) return env;
  return { ...env, UV_THREADPOOL_SIZE: String(Math.min(1024, availableParallelism() + 4)) };
}

module.exports = { withThreadPool };
