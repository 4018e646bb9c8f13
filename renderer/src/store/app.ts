import { canonicalJson } from '../../../engine/contract/canonical-json';
import { GRAPH_FORMAT } from '../../../engine/contract/graph-format';
import { ApiError, ForgeApi, readToken, type TrustItem } from '../api/client';
import type { GraphDocument, RunMode } from '../api/types';
import { desktop } from '../desktop';
import { requestNotificationPermission } from '../ui/runFinished';
import { useCatalog } from './catalog';
import { codeNodes, createGraphStore, type FlowNode } from './graph';
import { useLibrary } from './library';
import { useRun } from './run';
import { staleFromPlan } from './stale';
import { useUi } from './ui';

export const api = new ForgeApi(typeof window === 'undefined' ? '' : readToken());
export const useGraph = createGraphStore({ types: () => useCatalog.getState().types, components: () => useLibrary.getState().components });

/* ---------- trust: imported graphs with user code must be approved before running ---------- */

function hashText(s: string): string {
  // FNV-1a, 2×32 bits: enough to recognise code the user already approved (not a security boundary).
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x811c9dc5) >>> 0;
  }
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
}

export function codeFingerprint(doc: GraphDocument): string | null {
  const nodes = codeNodes(doc, useCatalog.getState().types);
  if (nodes.length === 0) return null;
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  return hashText(canonicalJson(nodes.map((c) => [c.nodeId, c.params.map((p) => byId.get(c.nodeId)?.params[p])])));
}

function trustedSet(): Set<string> {
  try {
    return new Set(JSON.parse(localStorage.getItem('forge.trustedCode') ?? '[]') as string[]);
  } catch {
    return new Set();
  }
}

export function rememberTrust(doc: GraphDocument): void {
  const fp = codeFingerprint(doc);
  if (!fp) return;
  const s = trustedSet();
  s.add(fp);
  localStorage.setItem('forge.trustedCode', JSON.stringify([...s].slice(-500)));
}

function isTrusted(doc: GraphDocument): boolean {
  const fp = codeFingerprint(doc);
  return fp === null || trustedSet().has(fp);
}

/* ---------- recent files ---------- */

export function recentFiles(): string[] {
  try {
    return JSON.parse(localStorage.getItem('forge.recent') ?? '[]') as string[];
  } catch {
    return [];
  }
}

function addRecent(path: string): void {
  const list = [path, ...recentFiles().filter((p) => p !== path)].slice(0, 10);
  localStorage.setItem('forge.recent', JSON.stringify(list));
}

/* ---------- documents ---------- */

function errorText(err: unknown): { title: string; detail?: string } {
  if (err instanceof ApiError) {
    const d = err.diagnostics;
    return {
      title: err.message,
      detail: d.length
        ? d
            .slice(0, 4)
            .map((x) => `${x.nodeId ? `${x.nodeId}: ` : ''}${x.message}`)
            .join('\n')
        : undefined,
    };
  }
  return { title: (err as Error).message };
}

export function reportError(err: unknown, prefix?: string): void {
  const t = errorText(err);
  useUi.getState().toast({ kind: 'error', title: prefix ? `${prefix}: ${t.title}` : t.title, detail: t.detail }, 9000);
}

/** Loads a document onto the canvas, resetting run state for nodes that are not in it. */
export function loadDocument(doc: GraphDocument, opts: { path?: string | null; imported?: boolean } = {}): void {
  performance.mark('forge:graph-loaded');
  const trusted = isTrusted(doc);
  useGraph.getState().load(doc, { path: opts.path ?? null, trusted });
  useRun.getState().reset();
  useUi.setState({ output: null, diagnostics: [] });
  if (opts.path) addRecent(opts.path);
  // The engine also asks about paths outside the graph folder and workspace, which only it can resolve.
  if (trusted && (opts.path || opts.imported)) void checkEngineTrust(doc, opts.path ?? null);
  if (!trusted) {
    const nodes = codeNodes(doc, useCatalog.getState().types);
    useUi.getState().toast({ kind: 'warn', title: 'This graph contains user code', detail: `${nodes.map((n) => n.nodeId).join(', ')} — you will be asked to trust it before it runs.` }, 8000);
  }
}

async function checkEngineTrust(doc: GraphDocument, path: string | null): Promise<void> {
  try {
    const r = await api.trustCheck(doc, path);
    if (r.trusted) return;
    useGraph.getState().setTrusted(false);
    useUi.getState().toast({ kind: 'warn', title: 'This graph reaches outside its folder', detail: `${r.needsTrust.map(trustNote).join('\n')}\nYou will be asked to trust it before it runs.` }, 8000);
  } catch {
    // Invalid graphs are reported when they are validated or run.
  }
}

function trustNote(i: TrustItem): string {
  return i.reason === 'path' ? `${i.nodeId} ${i.field}: ${i.value} (outside the graph folder and workspace)` : `${i.nodeId} ${i.field}: runs code`;
}

function askTrust(doc: GraphDocument, notes: string[], then: () => void): void {
  useUi.getState().openDialog({ kind: 'trust', nodes: codeNodes(doc, useCatalog.getState().types), notes, then });
}

export async function openGraph(path: string): Promise<void> {
  try {
    const { doc } = await api.readGraph(path);
    loadDocument(doc, { path });
    void restoreLastResults();
  } catch (err) {
    reportError(err, `Cannot open ${path}`);
  }
}

/** Parses a graph document or exported config (text) and loads it as a new, untitled graph. */
export function importText(text: string, name: string): boolean {
  let doc: GraphDocument;
  try {
    doc = JSON.parse(text) as GraphDocument;
  } catch (err) {
    useUi.getState().toast({ kind: 'error', title: `${name} is not JSON`, detail: (err as Error).message });
    return false;
  }
  if (!doc || typeof doc !== 'object' || doc.format !== GRAPH_FORMAT || !Array.isArray(doc.nodes)) {
    useUi.getState().toast({ kind: 'error', title: `${name} is not a Forge graph`, detail: 'expected "format": "forge-graph" and a "nodes" list' });
    return false;
  }
  loadDocument({ ...doc, edges: doc.edges ?? [], seed: doc.seed ?? 0 }, { imported: true });
  useUi.getState().toast({ kind: 'success', title: `Imported ${name}`, detail: `${doc.nodes.length} nodes, ${(doc.edges ?? []).length} edges` }, 3000);
  return true;
}

export async function saveGraph(path?: string): Promise<boolean> {
  const g = useGraph.getState();
  const target = path ?? g.path;
  if (!target) {
    useUi.getState().openDialog({ kind: 'save-as' });
    return false;
  }
  const doc = g.toDocument();
  try {
    const res = await api.saveGraph(target, doc);
    // The user wrote (or accepted) this code themselves, so it no longer needs approval.
    if (g.trusted) rememberTrust(doc);
    useGraph.getState().markSaved(res.path);
    addRecent(res.path);
    useUi.getState().toast({ kind: 'success', title: `Saved ${res.path}` }, 2500);
    return true;
  } catch (err) {
    reportError(err, 'Save failed');
    return false;
  }
}

function slug(s: string | undefined): string {
  return (
    (s ?? 'pipeline')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'pipeline'
  );
}

export function suggestedFileName(): string {
  return `${slug(useGraph.getState().meta.name)}.forge.json`;
}

/** Exports the reproducible config (pins every input file by hash) and downloads/saves it. */
export async function exportConfig(): Promise<void> {
  const g = useGraph.getState();
  try {
    const config = await api.exportConfig(g.toDocument(), g.path);
    const text = `${JSON.stringify(config, null, 2)}\n`;
    const name = `${slug(g.meta.name)}.config.forge.json`;
    const d = desktop();
    if (d) {
      const path = await d.saveFile({ title: 'Export reproducible config', defaultName: name, content: text });
      if (path) useUi.getState().toast({ kind: 'success', title: `Exported ${path}` }, 3000);
      return;
    }
    const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    a.click();
    window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
    const files = Object.keys(config.pins?.files ?? {}).length;
    useUi.getState().toast({ kind: 'success', title: `Exported ${name}`, detail: `${config.nodes.length} nodes, ${files} input file${files === 1 ? '' : 's'} pinned by hash` }, 3500);
  } catch (err) {
    reportError(err, 'Export failed');
  }
}

/* ---------- running ---------- */

export function selectedNodeIds(): string[] {
  return useGraph
    .getState()
    .nodes.filter((n) => n.selected)
    .map((n) => n.id);
}

export function runGraph(mode: RunMode, target?: string): void {
  const g = useGraph.getState();
  if (g.nodes.length === 0) {
    useUi.getState().toast({ kind: 'info', title: 'Nothing to run', detail: 'Add nodes from the palette first.' }, 3000);
    return;
  }
  if (mode !== 'all') {
    target ??= selectedNodeIds()[0];
    if (!target) {
      useUi.getState().toast({ kind: 'info', title: mode === 'node' ? 'Select a node to run' : 'Select a node to run from' }, 3000);
      return;
    }
  }
  if (useRun.getState().active) {
    useUi.getState().toast({ kind: 'info', title: 'A run is in progress', detail: 'Cancel it first (Ctrl+.)' }, 3000);
    return;
  }
  if (target !== undefined && g.nodes.find((n) => n.id === target)?.data.subgraph) {
    useUi.getState().toast({ kind: 'info', title: 'Open the subgraph to run one of its nodes', detail: 'Run all runs the subgraph with the rest of the graph.' }, 4000);
    return;
  }
  // Inside an opened subgraph the engine knows its nodes by their full ids (`prep/filter`).
  const engineTarget = target !== undefined ? g.scope + target : undefined;
  const doc = g.toDocument();
  const approve = () => {
    const current = useGraph.getState();
    // The engine enforces trust for every client: record the consent in the workspace first.
    api
      .trust(current.toDocument(), current.path)
      .then(() => {
        rememberTrust(current.toDocument());
        useGraph.getState().setTrusted(true);
        runGraph(mode, target);
      })
      .catch((err: unknown) => reportError(err, 'Cannot trust this graph'));
  };
  if (!g.trusted) {
    void api
      .trustCheck(doc, g.path)
      .then((r) => {
        // Untrusted only for its paths, now allowed (a folder was granted in Settings): no dialog.
        if (r.trusted && codeNodes(doc, useCatalog.getState().types).length === 0) {
          useGraph.getState().setTrusted(true);
          runGraph(mode, target);
          return;
        }
        askTrust(doc, r.needsTrust.filter((i) => i.reason === 'path').map(trustNote), approve);
      })
      .catch(() => askTrust(doc, [], approve));
    return;
  }
  requestNotificationPermission();
  // A graph the user wrote or approved in the app is trusted; the engine keeps that in the workspace.
  api
    .trust(doc, g.path)
    .then(() => api.run(doc, { mode, target: engineTarget, path: g.path, continueOnFailure: useUi.getState().continueOnFailure, queue: useUi.getState().runQueue }))
    .catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 403 && err.needsTrust.length > 0) {
        useGraph.getState().setTrusted(false);
        askTrust(doc, err.needsTrust.filter((i) => i.reason === 'path').map(trustNote), approve);
        return;
      }
      if (err instanceof ApiError && err.diagnostics.length) {
        useUi.getState().setDiagnostics(err.diagnostics);
        useUi.getState().showBottom('problems');
      }
      reportError(err, 'Cannot run');
    });
}

export function cancelRun(): void {
  const active = useRun.getState().active;
  if (!active) return;
  api.cancel(active.runId).catch((err: unknown) => reportError(err, 'Cancel failed'));
}

/* ---------- derived state ---------- */

let lastNodes: readonly FlowNode[] = [];
let lastEdges: unknown = null;
let lastStatus: unknown = null;
let lastMeta: unknown = null;
let planTimer = 0;
let planSeq = 0;
/** Counts graph edits (node data, edges, settings); compared with its value when the last run started. */
let graphRevision = 0;
let revisionAtRunStart = -1;
const UNSUCCESSFUL = new Set(['failed', 'skipped', 'cancelled']);

/** Called when a run starts: results it produces describe the graph at this revision. */
export function markRunStarted(): void {
  revisionAtRunStart = graphRevision;
}

/**
 * Asks the engine for its plan of the current graph when node data, edges, graph settings (the
 * seed) or results change (not on drags or selection), and shows its stale verdicts. Debounced,
 * and paused while a run is active: the run's own events say what is fresh.
 */
export function refreshStale(force = false): void {
  const g = useGraph.getState();
  const { nodes, edges } = g;
  const status = useRun.getState().status;
  const dataChanged = nodes.length !== lastNodes.length || nodes.some((n, i) => n.data !== lastNodes[i]?.data || n.id !== lastNodes[i]?.id);
  if (dataChanged || edges !== lastEdges || g.meta !== lastMeta) graphRevision++;
  if (!force && !dataChanged && edges === lastEdges && status === lastStatus && g.meta === lastMeta) return;
  lastNodes = nodes;
  lastEdges = edges;
  lastStatus = status;
  lastMeta = g.meta;
  window.clearTimeout(planTimer);
  const mySeq = ++planSeq;
  if (!Object.values(status).some((st) => st.state !== 'idle')) {
    useRun.getState().setStale({});
    return;
  }
  planTimer = window.setTimeout(() => {
    if (useRun.getState().active) return;
    const now = useGraph.getState();
    api
      .plan(now.toDocument(), now.path)
      .then((plan) => {
        if (mySeq !== planSeq || useRun.getState().active) return;
        const shown = useRun.getState().status;
        // A failure, skip or cancel describes the graph as it was run; the plan compares with the last success, so it only means "stale" once the graph was edited since.
        const editedSinceRun = graphRevision !== revisionAtRunStart;
        useRun.getState().setStale(staleFromPlan(plan, (id) => (editedSinceRun || !UNSUCCESSFUL.has(shown[id]?.state ?? '') ? shown[id] : undefined)));
      })
      // An invalid graph has no plan; the Problems panel shows why, and stale badges keep their last verdict.
      .catch(() => {});
  }, 200);
}

let validateTimer = 0;
let validateSeq = 0;
/** Server-side validation (the engine's own rules), debounced, shown on nodes and in Problems. */
export function scheduleValidate(): void {
  window.clearTimeout(validateTimer);
  validateTimer = window.setTimeout(() => {
    const mySeq = ++validateSeq;
    const doc = useGraph.getState().toDocument();
    if (doc.nodes.length === 0) {
      useUi.getState().setDiagnostics([]);
      return;
    }
    api
      .validate(doc)
      .then((r) => {
        if (mySeq === validateSeq) useUi.getState().setDiagnostics(r.diagnostics);
      })
      .catch(() => {});
  }, 350);
}

/**
 * After opening a saved graph, show each node's most recent result from provenance (when its
 * params still match), so outputs can be inspected without re-running.
 */
export async function restoreLastResults(): Promise<void> {
  const g = useGraph.getState();
  if (!g.path) return;
  try {
    const runs = (await api.runs(20)).filter((r) => r.graphPath !== null && r.graphPath.endsWith(g.path as string));
    const want = new Set(g.nodes.map((n) => n.id));
    const seen = new Set<string>();
    const status = { ...useRun.getState().status };
    for (const r of runs.slice(0, 5)) {
      const detail = await api.runDetail(r.id);
      for (const ex of detail.executions) {
        // The newest result of each node is shown; the engine's plan then says whether it is stale.
        // Inner nodes of a subgraph ran as `sub/inner`.
        if (seen.has(ex.nodeId) || !(want.has(ex.nodeId) || want.has(ex.nodeId.split('/')[0] ?? '')) || ex.status !== 'succeeded') continue;
        seen.add(ex.nodeId);
        status[ex.nodeId] = {
          state: ex.cached ? 'cached' : 'done',
          outputs: ex.outputs.map((o) => ({ port: o.port, hash: o.hash, kind: 'dataset', rows: null, bytes: 0 })),
          durationMs: ex.durationMs ?? undefined,
          runId: ex.runId,
          executionId: ex.id,
        };
      }
    }
    // Kinds and row counts come from the artifact records.
    await Promise.all(
      Object.values(status).flatMap((st) =>
        (st.outputs ?? []).map(async (o) => {
          try {
            const a = await api.artifact(o.hash);
            o.kind = a.kind as typeof o.kind;
            o.rows = a.rows;
            o.bytes = a.bytes;
          } catch {
            /* artifact gone: the preview will say so */
          }
        }),
      ),
    );
    if (useGraph.getState().path === g.path) useRun.setState({ status });
  } catch {
    /* history is a convenience; the graph is usable without it */
  }
}

export function isTypingTarget(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  if (!el) return false;
  return el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable || !!el.closest?.('.monaco-editor');
}
