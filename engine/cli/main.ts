import { existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Engine } from '../engine.js';
import type { NodeRegistry } from '../registry.js';
import { graphJsonSchema } from '../graph/document.js';
import { formatDiagnostic, GraphLoadError } from '../graph/errors.js';
import { parseGraphText } from '../graph/load.js';
import { PinMismatchError } from '../exec/input-files.js';
import { ProvenanceDbError } from '../provenance/db.js';
import { previewArtifact } from '../store/preview.js';
import { ENGINE_VERSION } from '../version.js';
import { diffCommand, lineageCommand, runsCommand, showCommand } from './provenance-commands.js';
import { formatPlan } from './plan-command.js';
import { runCommand } from './run-command.js';
import { UntrustedGraphError } from '../security/trust.js';
import { WORKER_HELP } from './worker-help.js';
import { modelsCommand } from './models-command.js';
import { table } from './format.js';

const HELP = `forge ${ENGINE_VERSION} — run Forge Studio graphs headless

usage: forge <command> [options]

  run <graph.forge.json>        run a graph (cached nodes are reused)
      --node <id>               run one node (upstream from cache, or computed if missing)
      --from <id>               run a node and everything downstream of it
      --force                   re-execute every node even if cached
      --continue-on-failure     keep running branches independent of a failed node
      --trust                   run a graph that needs trust (code, paths outside) without asking
      --allow <dir>             grant access to a folder outside the graph folder and workspace (repeatable)
      --queue redis://host:port send work units to \`forge worker\` processes instead of local threads
  plan <graph.forge.json>       what a run would do: each node cached or will run, and why
                                (takes --node, --from, --force, --json)
${WORKER_HELP}  validate <graph>              check a graph without running it
  export <graph> [-o out.json]  write a reproducible config (inputs pinned by content hash)
      --run <run-id>            export the graph exactly as a past run ran it
  runs [--limit N]              run history
  show <run>                    one run: node executions, params, cache hits, timings, errors, environment
  lineage <artifact-hash>       the executions, params and inputs that produced an artifact
  diff <runA> <runB>            what changed between two runs
  preview <artifact-hash>       first rows of a dataset artifact  (--limit N)
  nodes                         list node types
  schema                        print the graph document's JSON Schema
  serve [--port N]              start the engine API + UI on 127.0.0.1 with a random token
      --allow <dir>             grant every run access to a folder (repeatable)
  db check | db rebuild         integrity check / rebuild query tables from the event log
      --deep                    also rehash every file of every artifact
  verify                        rehash every artifact against its manifest (same as db check --deep)
  models pull <owner/name>[@rev] download an ONNX sentence-transformer + tokenizer into the model cache

common options:
  -w, --workspace <dir>         workspace folder holding .forge/ (default: current folder)
  --json                        machine-readable output
  -q, --quiet                   no progress output
`;

/** Commands that read node types; the others open the engine without loading any node code. */
const NEEDS_NODE_TYPES = new Set(['run', 'plan', 'validate', 'export', 'nodes', 'serve']);

export interface CliDeps {
  /** Builds the node registry (the composition root); called only for commands that need node types. */
  loadRegistry: () => Promise<NodeRegistry>;
}

export async function main(argv: string[], deps: CliDeps): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      workspace: { type: 'string', short: 'w' },
      node: { type: 'string' },
      from: { type: 'string' },
      force: { type: 'boolean', default: false },
      'continue-on-failure': { type: 'boolean', default: false },
      trust: { type: 'boolean', default: false },
      deep: { type: 'boolean', default: false },
      allow: { type: 'string', multiple: true, default: [] },
      json: { type: 'boolean', default: false },
      quiet: { type: 'boolean', short: 'q', default: false },
      output: { type: 'string', short: 'o' },
      run: { type: 'string' },
      limit: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
      queue: { type: 'string' },
      store: { type: 'string' },
      concurrency: { type: 'string' },
      version: { type: 'boolean', short: 'v', default: false },
    },
  });
  const [command, ...args] = positionals;
  if (values.version) return print(ENGINE_VERSION);
  if (values.help || !command || command === 'help') return print(HELP);
  if (command === 'schema') return print(JSON.stringify(graphJsonSchema(), null, 2));

  // The queue client (bullmq, ioredis) loads only for commands that use it.
  if (command === 'worker') return (await import('./worker-command.js')).workerCommand(values, deps.loadRegistry);
  const registry = NEEDS_NODE_TYPES.has(command) ? await deps.loadRegistry() : undefined;
  // SECURITY: read-only commands never create a workspace, and a bad one is a message, not a stack trace.
  const opened = openWorkspace(resolve(values.workspace ?? process.cwd()), command, registry);
  if (typeof opened === 'number') return opened;
  const engine = opened;
  engine.granted = (values.allow ?? []).map((d) => resolve(d));
  try {
    switch (command) {
      case 'run': {
        if (values.node && values.from) throw new UsageError('give --node or --from, not both');
        const { doc, file, baseDir } = engine.loadFile(need(args[0], 'graph file'));
        return await runCommand(engine, {
          file,
          doc,
          baseDir,
          mode: values.node ? 'node' : values.from ? 'from' : 'all',
          target: values.node ?? values.from,
          force: values.force ?? false,
          continueOnFailure: values['continue-on-failure'] ?? false,
          json: values.json ?? false,
          quiet: values.quiet ?? false,
          trust: values.trust ?? false,
          executor: values.queue ? await (await import('../exec/queue/queue-executor.js')).QueueExecutor.connect(values.queue, engine.ws.store.forgeDir, engine.registry) : undefined,
        });
      }
      case 'plan': {
        if (values.node && values.from) throw new UsageError('give --node or --from, not both');
        const { doc, file, baseDir } = engine.loadFile(need(args[0], 'graph file'));
        const plan = await engine.plan(doc, { file, baseDir, mode: values.node ? 'node' : values.from ? 'from' : 'all', target: values.node ?? values.from, force: values.force ?? false });
        return print(values.json ? JSON.stringify(plan, null, 2) : formatPlan(plan));
      }
      case 'validate': {
        const { doc, file } = engine.loadFile(need(args[0], 'graph file'));
        const result = engine.validate(doc, file);
        if (values.json) return print(JSON.stringify(result.diagnostics, null, 2), result.graph ? 0 : 2);
        for (const d of result.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
        return print(result.graph ? `${file}: valid (${doc.nodes.length} nodes, ${doc.edges.length} edges)` : `${file}: invalid`, result.graph ? 0 : 2);
      }
      case 'export': {
        let doc;
        let baseDir: string;
        let file: string | undefined;
        if (values.run) {
          const run = engine.ws.queries.run(engine.ws.queries.resolveRunId(values.run));
          const row = engine.ws.db.db.prepare('SELECT doc FROM graphs WHERE hash = ?').get(run.graphHash) as { doc: string };
          doc = parseGraphText(row.doc);
          baseDir = run.graphPath ? dirname(run.graphPath) : process.cwd();
          file = run.graphPath ?? undefined;
        } else {
          ({ doc, baseDir, file } = engine.loadFile(need(args[0], 'graph file')));
        }
        const config = await engine.exportConfig(doc, baseDir, file);
        const text = `${JSON.stringify(config, null, 2)}\n`;
        if (values.output) {
          writeFileSync(values.output, text);
          process.stderr.write(`wrote ${values.output} (${Object.keys(config.pins?.files ?? {}).length} pinned input file(s))\n`);
          return 0;
        }
        return print(text.trimEnd());
      }
      case 'runs':
        return runsCommand(engine, Number(values.limit ?? 30), values.json ?? false);
      case 'show':
        return showCommand(engine, need(args[0], 'run id'), values.json ?? false);
      case 'lineage':
        return lineageCommand(engine, need(args[0], 'artifact hash'), values.json ?? false);
      case 'diff':
        return diffCommand(engine, need(args[0], 'first run'), need(args[1], 'second run'), values.json ?? false);
      case 'preview': {
        const hash = engine.ws.queries.resolveArtifactHash(need(args[0], 'artifact hash'));
        const p = await previewArtifact(engine.ws.store.ref(hash), engine.ws.tmpDir, 0, Number(values.limit ?? 10));
        if (values.json || p.kind !== 'dataset') return print(JSON.stringify(p.kind === 'dataset' ? p : p.data, null, 2));
        if (p.report !== undefined) return print(p.report);
        const cols = (p.schema ?? []).map((c) => c.name);
        print(
          table(
            cols,
            p.records.map((r) => cols.map((c) => truncate(r[c]))),
          ),
        );
        return print(`${p.records.length} of ${p.rows ?? '?'} rows`);
      }
      case 'nodes': {
        const types = engine.registry.list();
        if (values.json)
          return print(
            JSON.stringify(
              types.map((t) => engine.registry.info(t.type)),
              null,
              2,
            ),
          );
        return print(
          table(
            ['type', 'v', 'category', 'title', 'inputs', 'outputs'],
            types.map((t) => [t.type, t.version, t.category, t.title, Object.keys(t.inputs).join(','), Object.keys(t.outputs).join(',')]),
          ),
        );
      }
      case 'models':
        return modelsCommand(args, values.json ?? false, values.quiet ?? false);
      case 'serve': {
        const { startServer } = await import('../server/server.js');
        const server = await startServer(engine, { port: Number(values.port ?? 0), host: values.host });
        print(`Forge engine serving workspace ${engine.ws.root}`);
        print(`open ${server.url}`);
        await new Promise<void>((resolveStop) => {
          const stop = () => void server.close().then(resolveStop);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        return 0;
      }
      case 'verify':
        return verifyCommand(engine, true);
      case 'db': {
        if (args[0] === 'check') {
          const sqlite = engine.ws.db.integrityCheck();
          print(`integrity_check: ${sqlite}`);
          const artifacts = verifyCommand(engine, values.deep ?? false);
          return sqlite === 'ok' ? artifacts : 1;
        }
        if (args[0] === 'rebuild') return print(`replayed ${engine.ws.db.rebuildFromEvents()} events`);
        throw new UsageError('db takes check or rebuild');
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof GraphLoadError) {
      for (const d of err.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
      if (err.diagnostics.length === 0) process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    if (err instanceof PinMismatchError || err instanceof UsageError || err instanceof UntrustedGraphError) {
      process.stderr.write(`error: ${err.message}\n`);
      if (err instanceof UsageError) process.stderr.write('run "forge help" for usage\n');
      return 2;
    }
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 1;
  } finally {
    engine.close();
  }
}

class UsageError extends Error {}

const READ_ONLY = new Set(['runs', 'show', 'lineage', 'diff', 'preview', 'db', 'verify']);

function openWorkspace(root: string, command: string, registry: NodeRegistry | undefined): Engine | number {
  let isDir = false;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    // missing: handled below
  }
  if (!isDir && (READ_ONLY.has(command) || existsSync(root))) {
    process.stderr.write(`error: workspace ${root} is ${existsSync(root) ? 'not a folder' : 'missing'}\n`);
    return 2;
  }
  if (READ_ONLY.has(command) && !existsSync(join(root, '.forge'))) {
    process.stderr.write(`error: ${root} is not a Forge workspace (no .forge folder); run a graph there first, or pass -w <workspace>\n`);
    return 2;
  }
  try {
    return Engine.open(root, registry);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return err instanceof ProvenanceDbError ? 3 : 1;
  }
}

/** Checks every stored artifact; damaged ones are listed (a run recomputes them). Never throws. */
function verifyCommand(engine: Engine, deep: boolean): number {
  let bad = 0;
  const all = engine.ws.store.list();
  for (const hash of all) {
    let problem: string | null;
    try {
      problem = engine.ws.store.verify(hash, { deep });
    } catch (err) {
      problem = (err as Error).message;
    }
    if (problem) {
      bad++;
      process.stdout.write(`damaged ${hash}: ${problem}\n`);
    }
  }
  process.stdout.write(`artifacts: ${all.length - bad} intact, ${bad} damaged${deep ? ' (full hashes)' : ' (sizes and small files)'}\n`);
  return bad === 0 ? 0 : 1;
}

function need(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`missing ${what}`);
  return value;
}

function print(text: string, code = 0): number {
  process.stdout.write(`${text}\n`);
  return code;
}

function truncate(v: unknown): string {
  const s = typeof v === 'string' ? v : (JSON.stringify(v) ?? '');
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > 60 ? `${flat.slice(0, 57)}…` : flat;
}
