#!/usr/bin/env node
// Entry point of the `forge` CLI. The engine is TypeScript run through tsx's loader, so a fresh
// clone needs no build step before `npx forge …` works.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../engine/cli/main.ts');
const code = await main(process.argv.slice(2));
// DuckDB and piscina keep handles alive; the CLI is done once main returns.
process.exit(code);
