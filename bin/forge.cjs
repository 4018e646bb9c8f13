#!/usr/bin/env node
'use strict';
// Entry point of the `forge` CLI. CommonJS so that the thread pool size is set before any ES module
// is loaded (see thread-pool.cjs); the CLI itself is bin/forge-main.mjs.
const { withThreadPool } = require('./thread-pool.cjs');

process.env.UV_THREADPOOL_SIZE = withThreadPool(process.env).UV_THREADPOOL_SIZE;
import('./forge-main.mjs');
