import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { annotateLines } from './graph/lines.js';
import { GRAPH_FORMAT, GRAPH_VERSION, type GraphDocument } from './graph/document.js';
import { GraphLoadError } from './graph/errors.js';
import { loadGraphFile } from './graph/load.js';
import { validateGraph, type ValidGraph, type ValidationResult } from './graph/validate.js';
import { workspaceComponentLoader } from './graph/components.js';
import { flattenSubgraphs, nameSubgraphInDiagnostic } from './graph/subgraph.js';
import { computePins } from './exec/input-files.js';
import type { RunSummary } from './exec/events.js';
import { planGraph, type GraphPlan } from './exec/plan.js';
import type { PlanRequest } from './exec/planner.js';
import { runGraph, type RunOptions } from './exec/scheduler.js';
import { graphLimitDiagnostics } from './security/graph-limits.js';
import { SettingsStore } from './security/granted-folders.js';
import { assertRunAllowed, type RunPermission } from './security/trust.js';
import type { NodeRegistry } from './registry.js';
import { ENGINE_VERSION } from './version.js';
import { Workspace } from './workspace.js';

function mergeDiagnostics(result: ValidationResult, extra: ValidationResult['diagnostics']): ValidationResult {
  return extra.length === 0 ? result : { ...result, diagnostics: [...result.diagnostics, ...extra] };
}

/** A document migrated from an older format version on load says so; saving it keeps the migration. */
function formatMigrationWarning(doc: GraphDocument, file?: string): ValidationResult['diagnostics'] {
  if (doc.migratedFrom === undefined) return [];
  return [
    {
      severity: 'warning',
      code: 'migrated-format',
      file,
      field: 'version',
      message: `migrated from graph format version ${doc.migratedFrom} to ${GRAPH_VERSION}; save the graph to keep the migration`,
    },
  ];
}

/**
 * The engine's facade for the CLI, the server and tests: one workspace, one registry. The registry
 * is given by the entry point (see composition/registry.ts); commands that only read provenance
 * (`forge runs`, `show`, …) open the engine without one, so no node code is loaded for them.
 */
export class Engine {
  /** Folders granted for every run of this engine process (`forge serve --allow`, `forge run --allow`). */
  granted: string[] = [];

  constructor(
    readonly ws: Workspace,
    private readonly nodeRegistry?: NodeRegistry,
  ) {}

  static open(root: string, registry?: NodeRegistry): Engine {
    return new Engine(Workspace.open(root), registry);
  }

  /** The app's Granted folders setting, kept in this workspace. */
  get settings(): SettingsStore {
    return new SettingsStore(this.ws.forgeDir);
  }

  /** Every standing grant: this process's `--allow` folders and the workspace's Granted folders setting. */
  allGranted(): string[] {
    return [...this.granted, ...this.settings.read().grantedFolders];
  }

  get registry(): NodeRegistry {
    if (!this.nodeRegistry) throw new Error('internal: this engine was opened without a node registry (the entry point must pass one)');
    return this.nodeRegistry;
  }

  loadFile(path: string): { doc: GraphDocument; file: string; baseDir: string } {
    const file = resolve(path);
    return { doc: loadGraphFile(file), file, baseDir: dirname(file) };
  }

  validate(source: GraphDocument, file?: string): ValidationResult {
    // Subgraphs are flattened first: everything below (and the plan, the cache and provenance) sees
    // their inner nodes as ordinary nodes with ids like `sub/inner`.
    const flat = flattenSubgraphs(source, {
      file,
      loadComponent: workspaceComponentLoader(this.ws.root, this.ws.forgeDir),
      portKind: (type, direction, port) => {
        const def = this.registry.get(type);
        if (!def) return null;
        return (direction === 'input' ? def.inputs : def.outputs)[port]?.kind;
      },
    });
    const migratedFormat = formatMigrationWarning(source, file);
    if (flat.diagnostics.some((d) => d.severity === 'error')) return { diagnostics: [...flat.diagnostics, ...migratedFormat] };
    const doc = flat.doc;
    // SECURITY: bounds (sweep size, unknown params) first; an oversized sweep is not parsed variant by variant.
    const limits = graphLimitDiagnostics(doc, this.registry, file);
    const checked: ValidationResult = limits.some((d) => d.severity === 'error') ? { diagnostics: limits } : mergeDiagnostics(validateGraph(doc, this.registry, file), limits);
    const result = mergeDiagnostics({ ...checked, diagnostics: checked.diagnostics.map(nameSubgraphInDiagnostic) }, [...flat.diagnostics, ...migratedFormat]);
    if (file && result.diagnostics.length > 0 && existsSync(file)) {
      return { ...result, diagnostics: annotateLines(result.diagnostics, readFileSync(file, 'utf8')) };
    }
    return result;
  }

  /** Validates, then runs; invalid graphs throw a GraphLoadError carrying every diagnostic. */
  async run(doc: GraphDocument, opts: RunOptions & RunPermission & { file?: string }): Promise<RunSummary> {
    const graph = this.requireValid(doc, opts.file);
    // SECURITY: the single trust / file-access gate for every client (engine/security/trust.ts).
    const granted = [...this.allGranted(), ...(opts.allow ?? [])];
    await assertRunAllowed(this.ws, this.registry, graph, opts.baseDir, granted, { trust: opts.trust });
    // The same grants bound what nodes may open at run time (ctx.resolvePath) and are recorded in provenance.
    return runGraph(this.ws, this.registry, graph, { ...opts, granted, graphPath: opts.graphPath ?? opts.file ?? null });
  }

  /** What `run` would do with each node (cached or will run, and why), without running anything. */
  async plan(doc: GraphDocument, opts: PlanRequest & { baseDir: string; file?: string }): Promise<GraphPlan> {
    return planGraph(this.ws, this.registry, this.requireValid(doc, opts.file), opts);
  }

  requireValid(doc: GraphDocument, file?: string): ValidGraph {
    const result = this.validate(doc, file);
    if (!result.graph) {
      const errors = result.diagnostics.filter((d) => d.severity === 'error');
      throw new GraphLoadError(`the graph has ${errors.length} error(s)`, result.diagnostics);
    }
    return result.graph;
  }

  /**
   * A reproducible config: the document with current format/engine versions, node type versions
   * filled in, and every input file pinned by content hash.
   */
  async exportConfig(doc: GraphDocument, baseDir: string, file?: string): Promise<GraphDocument> {
    const graph = this.requireValid(doc, file);
    const pins = await computePins(this.ws, this.registry, graph, baseDir);
    // graph.doc: nodes of older type versions are exported with their migrated params.
    return {
      ...graph.doc,
      format: GRAPH_FORMAT,
      version: GRAPH_VERSION,
      engineVersion: ENGINE_VERSION,
      nodes: graph.doc.nodes.map((n) => ({ ...n, typeVersion: this.registry.get(n.type)?.version ?? n.typeVersion })),
      pins: { files: pins },
    };
  }

  close(): void {
    this.ws.close();
  }
}
