import { create } from 'zustand';
import type { NodeOutcome, OutputInfo, RunEvent, RunMode, RunSummary } from '../api/types';

/** What a node shows. `stale` comes from the engine's plan (see staleFromPlan), the rest from run events. */
export type NodeRunState = 'idle' | 'stale' | 'queued' | 'running' | 'cached' | 'done' | 'failed' | 'skipped' | 'cancelled' | 'bypassed' | 'pinned';

export interface NodeStatus {
  state: NodeRunState;
  progress?: { done: number; total?: number; message?: string };
  error?: string;
  errorField?: string;
  outputs?: OutputInfo[];
  durationMs?: number;
  runId?: string;
  executionId?: string | null;
  /** For a swept node: each variant's state and outputs, by instance id. */
  variants?: Record<string, VariantStatus>;
}

/** One sweep variant of a node (an engine "instance", id `node[param=value]`). */
export interface VariantStatus {
  state: NodeRunState;
  variant: Record<string, number | string | boolean>;
  outputs?: OutputInfo[];
  error?: string;
  durationMs?: number;
  executionId?: string | null;
}

export interface LogLine {
  seq: number;
  time: number;
  runId: string;
  nodeId: string | null;
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface ActiveRun {
  runId: string;
  mode: RunMode;
  target: string | null;
  nodes: string[];
  startedAt: number;
}

export interface RunState {
  status: Record<string, NodeStatus>;
  /** nodeId → why it is stale, from the engine's plan of the current graph (refreshed after edits and runs). */
  stale: Record<string, string>;
  active: ActiveRun | null;
  lastRun: { runId: string; summary: RunSummary } | null;
  log: LogLine[];
  connected: boolean;
  /** runId → instance id → node id, from run.started. */
  instanceBase: Record<string, Record<string, string>>;
  handle(e: RunEvent): void;
  setConnected(c: boolean): void;
  setStale(stale: Record<string, string>): void;
  /** Forget everything about nodes that are gone (deleted, or a new document loaded). */
  reset(keep?: ReadonlySet<string>): void;
  clearLog(): void;
}

const MAX_LOG = 5000;
let seq = 0;

export const useRun = create<RunState>((set, get) => ({
  status: {},
  stale: {},
  active: null,
  lastRun: null,
  log: [],
  connected: false,
  instanceBase: {},

  setConnected: (connected) => set({ connected }),
  setStale: (stale) => {
    const prev = get().stale;
    const a = Object.keys(prev);
    const b = Object.keys(stale);
    if (a.length === b.length && b.every((k) => prev[k] === stale[k])) return;
    set({ stale });
  },
  reset: (keep) =>
    set((s) => {
      if (!keep) return { status: {}, stale: {} };
      const status: Record<string, NodeStatus> = {};
      // A subgraph's inner nodes (`sub/inner`) stay while the subgraph does.
      for (const [id, st] of Object.entries(s.status)) if (keep.has(id) || keep.has(id.split('/')[0] ?? '')) status[id] = st;
      return { status };
    }),
  clearLog: () => set({ log: [] }),

  handle: (e) => {
    const s = get();
    const line = (nodeId: string | null, level: LogLine['level'], message: string): LogLine => ({ seq: ++seq, time: Date.now(), runId: e.runId, nodeId, level, message });
    const appendLog = (lines: LogLine[]) => {
      const log = s.log.length + lines.length > MAX_LOG ? [...s.log.slice(s.log.length + lines.length - MAX_LOG), ...lines] : [...s.log, ...lines];
      return log;
    };
    const patch = (nodeId: string, p: Partial<NodeStatus>): Record<string, NodeStatus> => ({ ...s.status, [nodeId]: { ...(s.status[nodeId] ?? { state: 'idle' }), ...p } });
    // A node that has just produced a result for the graph as sent is no longer stale; the next plan confirms it.
    const fresh = (base: string): Record<string, string> => {
      if (!(base in s.stale)) return s.stale;
      const stale = { ...s.stale };
      delete stale[base];
      return stale;
    };

    // Sweeps run one instance per variant (`node[param=value]`); the canvas shows them on their node.
    const instances = e.type === 'run.started' ? e.instances : s.instanceBase[e.runId];
    const baseOf = (instanceId: string, o?: NodeOutcome): string => o?.baseNodeId ?? instances?.[instanceId] ?? instanceId;
    const variantCount = (base: string): number => {
      let n = 0;
      for (const b of Object.values(instances ?? {})) if (b === base) n++;
      return n;
    };
    /** Applies an event to one variant of a swept node and recomputes the node's aggregate state. */
    const patchVariant = (base: string, instanceId: string, p: Partial<VariantStatus>, o?: NodeOutcome): Record<string, NodeStatus> => {
      const st = s.status[base] ?? { state: 'idle' as const };
      const prev = st.variants?.[instanceId] ?? { state: 'queued' as const, variant: {} };
      const variants = { ...(st.variants ?? {}), [instanceId]: { ...prev, ...p, ...(o ? { variant: o.variant } : {}) } };
      const total = Math.max(variantCount(base), Object.keys(variants).length);
      const all = Object.values(variants);
      const finished = all.filter((v) => FINAL.has(v.state));
      let state: NodeRunState = 'running';
      if (finished.length >= total) {
        if (all.some((v) => v.state === 'failed')) state = 'failed';
        else if (all.every((v) => v.state === 'cached')) state = 'cached';
        else if (all.every((v) => v.state === 'skipped' || v.state === 'cancelled')) state = all[0]?.state ?? 'skipped';
        else state = 'done';
      }
      const failed = Object.entries(variants).find(([, v]) => v.state === 'failed');
      const firstDone = all.find((v) => v.outputs && v.outputs.length > 0);
      const complete = finished.length >= total;
      return {
        ...s.status,
        [base]: {
          ...st,
          state,
          variants,
          runId: e.runId,
          progress: complete ? undefined : { done: finished.length, total, message: `${finished.length} / ${total} variants` },
          error: failed ? `${failed[0]}: ${failed[1].error ?? 'failed'}` : undefined,
          outputs: firstDone?.outputs ?? [],
          durationMs: all.reduce((a, v) => a + (v.durationMs ?? 0), 0),
        },
      };
    };

    switch (e.type) {
      case 'run.started': {
        const status = { ...s.status };
        const bases = [...new Set(e.nodes.map((id) => baseOf(id)))];
        for (const id of bases) {
          const swept = variantCount(id) > 1 || (e.instances[id] === undefined && e.nodes.some((n) => e.instances[n] === id));
          status[id] = { ...(status[id] ?? { state: 'idle' }), state: 'queued', progress: undefined, error: undefined, errorField: undefined, ...(swept ? { variants: {} } : { variants: undefined }) };
        }
        const what = e.mode === 'all' ? 'all nodes' : e.mode === 'node' ? `node ${e.target}` : `from ${e.target}`;
        const extra = e.nodes.length > bases.length ? ` as ${e.nodes.length} instances` : '';
        set({
          status,
          instanceBase: { ...s.instanceBase, [e.runId]: e.instances },
          active: { runId: e.runId, mode: e.mode, target: e.target, nodes: bases, startedAt: Date.now() },
          log: appendLog([line(null, 'info', `run ${e.runId} started: ${what} (${bases.length} planned${extra}${e.forced.length ? `, ${e.forced.length} forced` : ''})`)]),
        });
        return;
      }
      case 'node.started': {
        const base = baseOf(e.nodeId);
        if (base !== e.nodeId) return set({ status: patchVariant(base, e.nodeId, { state: 'running' }) });
        set({ status: patch(e.nodeId, { state: 'running', progress: { done: 0 }, runId: e.runId, executionId: e.executionId, error: undefined }) });
        return;
      }
      case 'node.progress': {
        if (baseOf(e.nodeId) !== e.nodeId) return;
        set({ status: patch(e.nodeId, { state: 'running', progress: { done: e.done, total: e.total, message: e.message } }) });
        return;
      }
      case 'node.log':
        set({ log: appendLog([line(e.nodeId, e.level, e.message)]) });
        return;
      case 'node.cached':
      case 'node.finished': {
        const o = e.outcome;
        const state: NodeRunState = o.state === 'bypassed' ? 'bypassed' : o.state === 'pinned' ? 'pinned' : o.state === 'cached' ? 'cached' : 'done';
        const base = baseOf(e.nodeId, o);
        const status =
          base !== e.nodeId
            ? patchVariant(base, e.nodeId, { state, outputs: o.outputs, durationMs: o.durationMs, executionId: o.executionId, error: undefined }, o)
            : patch(e.nodeId, { state, outputs: o.outputs, durationMs: o.durationMs, runId: e.runId, executionId: o.executionId, progress: undefined, error: undefined });
        set({ status, stale: fresh(base), log: appendLog([line(e.nodeId, 'info', outcomeLine(o))]) });
        return;
      }
      case 'node.failed': {
        const o = e.outcome;
        const base = baseOf(e.nodeId, o);
        const status =
          base !== e.nodeId
            ? patchVariant(base, e.nodeId, { state: 'failed', outputs: [], error: o.error ?? 'failed', durationMs: o.durationMs, executionId: o.executionId }, o)
            : patch(e.nodeId, {
                state: 'failed',
                error: o.error ?? 'failed',
                errorField: o.location?.field,
                outputs: [],
                progress: undefined,
                durationMs: o.durationMs,
                runId: e.runId,
                executionId: o.executionId,
              });
        set({ status, stale: fresh(base), log: appendLog([line(e.nodeId, 'error', `failed: ${o.error ?? 'unknown error'}`)]) });
        return;
      }
      case 'node.skipped': {
        const o = e.outcome;
        const state: NodeRunState = o.state === 'cancelled' ? 'cancelled' : 'skipped';
        const base = baseOf(e.nodeId, o);
        // A skipped node keeps its previous result (if any) but says why it did not run this time.
        const status = base !== e.nodeId ? patchVariant(base, e.nodeId, { state, error: o.error }, o) : patch(e.nodeId, { state, error: o.error, progress: undefined, runId: e.runId });
        set({ status, log: appendLog([line(e.nodeId, 'warn', `${state}: ${o.error ?? ''}`)]) });
        return;
      }
      case 'run.finished': {
        const status = { ...s.status };
        for (const [id, st] of Object.entries(status)) if (st.state === 'queued' || st.state === 'running') status[id] = { ...st, state: 'cancelled', progress: undefined };
        const sum = e.summary;
        const counts = countStates(sum.nodes);
        const instanceBase = { ...s.instanceBase };
        delete instanceBase[e.runId];
        set({
          status,
          instanceBase,
          active: s.active?.runId === e.runId ? null : s.active,
          lastRun: { runId: e.runId, summary: sum },
          log: appendLog([line(null, sum.status === 'succeeded' ? 'info' : sum.status === 'failed' ? 'error' : 'warn', `run ${e.runId} ${sum.status} in ${formatMs(sum.durationMs)} — ${counts}`)]),
        });
        return;
      }
    }
  },
}));

const FINAL = new Set<NodeRunState>(['done', 'cached', 'failed', 'skipped', 'cancelled', 'bypassed', 'pinned']);

function countStates(nodes: NodeOutcome[]): string {
  const c = new Map<string, number>();
  for (const n of nodes) c.set(n.state, (c.get(n.state) ?? 0) + 1);
  return [...c.entries()].map(([k, v]) => `${v} ${k}`).join(', ') || 'nothing to do';
}

function outcomeLine(o: NodeOutcome): string {
  const outs = o.outputs.map((x) => `${x.port}${x.rows !== null ? ` ${x.rows.toLocaleString('en-US')} rows` : ''}`).join(', ');
  if (o.state === 'cached') return `cached${outs ? ` (${outs})` : ''}`;
  if (o.state === 'bypassed') return 'bypassed';
  if (o.state === 'pinned') return 'pinned output reused';
  return `done in ${formatMs(o.durationMs)}${outs ? ` (${outs})` : ''}`;
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** The state a node shows: live run states win, then staleness, then the last result. */
export function displayState(status: NodeStatus | undefined, staleReason: string | undefined): NodeRunState {
  const st = status?.state ?? 'idle';
  if (st === 'queued' || st === 'running') return st;
  if (staleReason) return 'stale';
  return st;
}
