// The `forge` CLI, started by bin/forge.cjs. The engine is TypeScript run through tsx's loader, so a fresh
// clone needs no build step before `npx forge …` works.
import { register } from 'tsx/esm/api';

register();
// `forge runs | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}
const { main } = await import('../engine/cli/main.ts');
// The composition root is imported only by commands that need node types: `forge --help` and
// `forge runs` never load node code (or the ML libraries behind it).
const code = await main(process.argv.slice(2), {
  loadRegistry: async () => (await import('../composition/registry.ts')).defaultRegistry(),
});
// DuckDB and piscina keep handles alive, so exit explicitly, but only once piped output has been
// flushed: process.exit() drops whatever a pipe has not yet taken.
await Promise.all([process.stdout, process.stderr].map((s) => new Promise((resolve) => s.write('', resolve))));
process.exit(code);
