import { useEffect, useState, useSyncExternalStore } from 'react';
import { create } from 'zustand';
import type { RowCountPoint } from '../api/types';
import { darkChartConfig, recolorForDark } from '../lib/chartTheme';
import { api, useGraph } from '../store/app';
import { useRun } from '../store/run';
import { useUi } from '../store/ui';
import { sparklinePath } from './sparkline';

/** How many recent executions a node's sparkline covers. */
export const HISTORY = 16;

// ---------- row-count history, fetched in batches ----------

/**
 * Each node's row-count history, keyed by full node id. `stamp` names the result it was fetched
 * for (the node's latest execution): a new run's result fetches it again, a re-render does not.
 */
const histories = new Map<string, { stamp: string; points: RowCountPoint[] }>();
const listeners = new Map<string, Set<() => void>>();
let queued = new Map<string, string>();
let flushTimer: ReturnType<typeof setTimeout> | null = null;

function notify(id: string): void {
  for (const l of listeners.get(id) ?? []) l();
}

/**
 * Asks for a node's history. Requests made while a run finishes (one per node that just got a
 * result) are gathered and sent as one request, so a big graph does not send one per node.
 */
function requestHistory(id: string, stamp: string): void {
  if (histories.get(id)?.stamp === stamp || queued.get(id) === stamp) return;
  queued.set(id, stamp);
  flushTimer ??= setTimeout(() => void flush(), 30);
}

async function flush(): Promise<void> {
  const batch = queued;
  queued = new Map();
  flushTimer = null;
  try {
    const res = await api.rowHistory([...batch.keys()], HISTORY);
    for (const [id, stamp] of batch) {
      histories.set(id, { stamp, points: res[id] ?? [] });
      notify(id);
    }
  } catch {
    // A preview is a convenience: the node still shows its row count; the next result retries.
  }
}

function useRowHistory(id: string): RowCountPoint[] | null {
  return useSyncExternalStore(
    (cb) => {
      const set = listeners.get(id) ?? new Set();
      set.add(cb);
      listeners.set(id, set);
      return () => {
        set.delete(cb);
        if (set.size === 0) listeners.delete(id);
      };
    },
    () => histories.get(id)?.points ?? null,
  );
}

/**
 * A tiny line of a dataset output's row count over the node's recent executions (run or served
 * from the cache), newest at the right; the count itself is the status text beside it.
 */
export function RowSparkline({ fullId, port, stamp }: { fullId: string; port: string; stamp: string }) {
  useEffect(() => requestHistory(fullId, stamp), [fullId, stamp]);
  const all = useRowHistory(fullId);
  const counts = (all ?? []).filter((p) => p.port === port).map((p) => p.rows);
  if (counts.length < 2) return null;
  const w = 56;
  const h = 16;
  const { line, last } = sparklinePath(counts, w, h, 2);
  const min = Math.min(...counts);
  const max = Math.max(...counts);
  const fmt = (n: number) => n.toLocaleString('en-US');
  return (
    <svg
      className="fnode-spark"
      width={w}
      height={h}
      viewBox={`0 0 ${w} ${h}`}
      role="img"
      aria-label={`rows over the last ${counts.length} executions: ${counts.map(fmt).join(', ')}`}
      data-testid="node-sparkline"
      data-points={counts.join(',')}
    >
      <title>{`${port}: rows over the last ${counts.length} executions (oldest → newest)\n${counts.map(fmt).join(' → ')}\nmin ${fmt(min)} · max ${fmt(max)}`}</title>
      <path d={line} className="spark-line" />
      <circle cx={last.x} cy={last.y} r={2} className="spark-dot" />
    </svg>
  );
}

// ---------- chart thumbnails ----------

/**
 * Whether the canvas is zoomed out past readable size (its `lod-far` class), for the few nodes
 * with a thumbnail: they do not render one nobody could see. Set by the canvas when the threshold
 * is crossed, so no node subscribes to the zoom itself.
 */
export const useCanvasLod = create<{ far: boolean }>(() => ({ far: false }));

/** Rendered thumbnails (SVG data URLs) by artifact hash and theme: artifacts never change. */
const thumbs = new Map<string, Promise<string>>();

/**
 * At thumbnail size (about two thirds of 320 px) tick labels are a blur: they go, and the title and
 * subtitle (which carry the chart's numbers, e.g. "31 rows; median 130") grow to stay readable.
 */
function thumbConfig(theme: 'light' | 'dark'): Record<string, unknown> {
  const base = theme === 'dark' ? darkChartConfig() : { background: 'transparent' };
  const b = base as { axis?: Record<string, unknown>; title?: Record<string, unknown> };
  return {
    ...base,
    axis: { ...b.axis, labels: false, ticks: false, titleFontSize: 13 },
    title: { ...b.title, fontSize: 19, subtitleFontSize: 15 },
    legend: { ...(base as { legend?: Record<string, unknown> }).legend, labelFontSize: 13, titleFontSize: 13 },
  };
}

async function renderThumb(hash: string, theme: 'light' | 'dark'): Promise<string> {
  const preview = await api.preview(hash, 0, 1);
  const [{ default: embed }, { expressionInterpreter }] = await Promise.all([import('vega-embed'), import('vega-interpreter')]);
  const spec = { ...((theme === 'dark' ? recolorForDark(preview.data) : preview.data) as Record<string, unknown>) };
  // A fixed size, whatever the chart asked for: the panel's chart fills its width, a thumbnail cannot.
  spec.width = 320;
  spec.height = 150;
  spec.autosize = { type: 'fit', contains: 'padding' };
  const host = document.createElement('div');
  const res = await embed(host, spec as never, {
    ast: true,
    expr: expressionInterpreter,
    actions: false,
    renderer: 'none',
    theme: theme === 'dark' ? 'dark' : undefined,
    config: thumbConfig(theme),
  });
  try {
    const svg = await res.view.toSVG();
    return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  } finally {
    res.finalize();
  }
}

function thumbFor(hash: string, theme: 'light' | 'dark'): Promise<string> {
  const key = `${hash}|${theme}`;
  let p = thumbs.get(key);
  if (!p) {
    p = renderThumb(hash, theme);
    // A failed render may be retried by the next node that shows it.
    p.catch(() => thumbs.delete(key));
    thumbs.set(key, p);
  }
  return p;
}

/**
 * A small picture of a chart. Rendered only once its node is on screen (React Flow mounts only the
 * visible nodes of a big graph) and at a readable zoom: the canvas hides it below ~50 % (see
 * `lod-far` in styles.css). Clicking it opens the node's output `openPort`.
 */
export function ChartThumb({ nodeId, hash, openPort, label }: { nodeId: string; hash: string; openPort: string; label: string }) {
  const theme = useUi((s) => s.theme);
  const far = useCanvasLod((s) => s.far);
  const [src, setSrc] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (far) return;
    let live = true;
    setFailed(false);
    thumbFor(hash, theme)
      .then((url) => live && setSrc(url))
      .catch(() => live && setFailed(true));
    return () => {
      live = false;
    };
  }, [hash, theme, far]);
  if (failed) return null;
  return (
    <button
      className="fnode-thumb nodrag"
      title={`${label}: click to open`}
      data-testid="node-thumb"
      data-hash={hash}
      onClick={(e) => {
        e.stopPropagation();
        useUi.getState().showOutput(nodeId, openPort);
      }}
    >
      {src ? <img src={src} alt={label} draggable={false} /> : <span className="fnode-thumb-wait" aria-hidden />}
    </button>
  );
}

/**
 * A report's thumbnail: the first chart feeding its chart inputs (its own output is its summary;
 * the charts are what it writes out as SVG). Clicking opens the report, charts inline.
 */
export function UpstreamChartThumb({ nodeId, chartInputs, openPort }: { nodeId: string; chartInputs: readonly string[]; openPort: string }) {
  const from = useGraph((s) => {
    const e = s.edges.find((x) => x.target === nodeId && chartInputs.includes(x.targetHandle ?? '') && x.sourceHandle);
    return e ? `${s.scope}${e.source}\n${e.sourceHandle}` : null;
  });
  const [src = '', port = ''] = from?.split('\n') ?? [];
  const hash = useRun((s) => (from ? s.status[src]?.outputs?.find((o) => o.port === port && o.kind === 'chart')?.hash : undefined));
  return hash ? <ChartThumb nodeId={nodeId} hash={hash} openPort={openPort} label={`${src}.${port} in this report`} /> : null;
}
