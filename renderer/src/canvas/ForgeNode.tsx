import { Handle, Position, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import type { NodeTypeInfo, PortSpec } from '../api/types';
import { categoryColor, kindColor } from '../lib/colors';
import type { FlowNode } from '../store/graph';
import { useGraph } from '../store/app';
import { displayState, formatMs, type NodeRunState } from '../store/run';
import { useUi } from '../store/ui';
import { useMetricsNotes } from './metricsWarning';
import { farTitle } from './farTitle';
import { ChartThumb, RowSparkline, UpstreamChartThumb } from './NodePreviews';
import { SubgraphBody, SubgraphHeadActions } from './SubgraphParts';
import { useNodeInfo, useNodeStatus } from './subgraphStatus';
import { isInside, SUBGRAPH_TYPE } from '../store/subgraph';

const STATE_LABEL: Record<NodeRunState, string> = {
  idle: 'idle',
  stale: 'stale',
  queued: 'queued',
  running: 'running',
  cached: 'cached',
  done: 'done',
  failed: 'failed',
  skipped: 'skipped',
  cancelled: 'cancelled',
  bypassed: 'bypassed',
  pinned: 'pinned',
};

interface PortRow {
  input?: [string, PortSpec];
  output?: [string, PortSpec];
}

function rows(info: { inputs: Record<string, PortSpec>; outputs: Record<string, PortSpec> }): PortRow[] {
  const ins = Object.entries(info.inputs);
  const outs = Object.entries(info.outputs);
  const n = Math.max(ins.length, outs.length);
  return Array.from({ length: n }, (_, i) => ({ input: ins[i], output: outs[i] }));
}

function paramSummary(info: NodeTypeInfo | undefined, params: Record<string, unknown>): string | null {
  if (!info) return null;
  const props = (info.paramsSchema.properties ?? {}) as Record<string, { title?: string; default?: unknown }>;
  const parts: string[] = [];
  for (const [k, p] of Object.entries(props)) {
    const v = params[k];
    if (v === undefined || v === '' || (p.default !== undefined && v === p.default && parts.length > 0)) continue;
    const text = typeof v === 'string' ? v.replace(/\s+/g, ' ') : JSON.stringify(v);
    parts.push(info.codeParams.includes(k) ? text : `${k}: ${text}`);
    if (parts.length === 2) break;
  }
  return parts.length ? parts.join(' · ') : null;
}

/** The one line a zoomed-out node shows after its state: its output when it has one, else its params. */
function farSummary(state: NodeRunState, statusLine: string, params: string | null): string | null {
  if (state === 'done' || state === 'cached' || state === 'pinned' || state === 'failed' || state === 'running') return statusLine === state ? null : statusLine;
  return params;
}

/** Ports of a node whose type the engine does not know, inferred from the edges touching it. */
function usePlaceholderPorts(id: string, enabled: boolean): { inputs: Record<string, PortSpec>; outputs: Record<string, PortSpec> } {
  const key = useGraph((s) => {
    if (!enabled) return '';
    const ins = new Set<string>();
    const outs = new Set<string>();
    for (const e of s.edges) {
      if (e.target === id && e.targetHandle) ins.add(e.targetHandle);
      if (e.source === id && e.sourceHandle) outs.add(e.sourceHandle);
    }
    return `${[...ins].join(',')}|${[...outs].join(',')}`;
  });
  const [i = '', o = ''] = key.split('|');
  const mk = (names: string) =>
    Object.fromEntries(
      names
        .split(',')
        .filter(Boolean)
        .map((n) => [n, { kind: 'dataset' as const, title: n }]),
    );
  return { inputs: mk(i), outputs: mk(o) };
}

function ForgeNodeView({ id, data, selected }: NodeProps<FlowNode>) {
  const isSub = data.type === SUBGRAPH_TYPE;
  const info = useNodeInfo({ id, data });
  // Run states and diagnostics name nodes by full id (`prep/filter` inside subgraph prep).
  const { status, stale: staleReason, fullId } = useNodeStatus({ id, data });
  const lit = useUi((s) => s.highlight.includes(fullId));
  const diag = useUi((s) => s.diagnostics.find((d) => d.severity === 'error' && (d.nodeId === fullId || (isSub && d.nodeId !== undefined && isInside(d.nodeId, fullId)))));
  const placeholder = usePlaceholderPorts(id, !info);
  const state = displayState(status, staleReason);
  const category = info?.category ?? 'Unknown';
  const ports = info ?? placeholder;
  const title = data.label || info?.title || data.type;
  const summary = paramSummary(info, data.params);
  const progress = status?.progress;
  const pct = progress?.total ? Math.min(100, (100 * progress.done) / progress.total) : null;
  const outputs = status?.outputs ?? [];
  const rowsOut = outputs.find((o) => o.rows !== null && o.kind === 'dataset');
  // Live previews show the last result; a running node shows its progress instead.
  const hasResult = state === 'done' || state === 'cached' || state === 'pinned' || state === 'stale';
  const chartOut = hasResult ? outputs.find((o) => o.kind === 'chart') : undefined;
  // A node that takes charts in (the report) and puts none out previews the first chart it got.
  const chartInputs = hasResult && !chartOut && info ? Object.keys(info.inputs).filter((k) => info.inputs[k]?.kind === 'chart') : [];
  const spark = hasResult && rowsOut && !isSub ? { port: rowsOut.port, stamp: status?.executionId ?? rowsOut.hash } : null;
  const { warning, threshold: thresholdNote } = useMetricsNotes(state === 'done' || state === 'cached' || state === 'stale' || state === 'pinned' ? outputs : []);

  let statusLine: string;
  if (state === 'running') statusLine = progress?.message ?? (progress?.total ? `${progress.done.toLocaleString('en-US')} / ${progress.total.toLocaleString('en-US')}` : 'running…');
  else if (state === 'queued') statusLine = 'queued';
  else if (state === 'stale') statusLine = `stale: ${staleReason}`;
  else if (state === 'failed') statusLine = 'failed';
  else if (state === 'done' || state === 'cached' || state === 'pinned' || state === 'bypassed')
    statusLine = [
      rowsOut ? `${rowsOut.rows?.toLocaleString('en-US')} row${rowsOut.rows === 1 ? '' : 's'}` : null,
      // Its rows were computed inside its consumer's pass (engine/sdk/deferred.ts).
      !rowsOut && outputs.some((o) => o.deferred) ? 'not written (deferred)' : null,
      state === 'done' && status?.durationMs !== undefined ? formatMs(status.durationMs) : state,
    ]
      .filter(Boolean)
      .join(' · ');
  else if (state === 'skipped' || state === 'cancelled') statusLine = status?.error ? `${state}: ${status.error}` : state;
  else statusLine = diag ? diag.message : 'not run yet';

  return (
    <div
      className={`fnode state-${state}${selected ? ' selected' : ''}${info ? '' : ' unknown'}${isSub ? ' fnode-subgraph' : ''}${data.bypass ? ' bypassed' : ''}${lit ? ' lineage-hit' : ''}`}
      style={{ '--cat': categoryColor(category) } as React.CSSProperties}
      data-testid={`node-${id}`}
      data-state={state}
      data-node-type={data.type}
    >
      <div className="fnode-head">
        <span className="fnode-cat" aria-hidden />
        <div className="fnode-titles">
          <div className="fnode-title" title={info?.description ?? `Unknown node type ${data.type}`}>
            {title}
          </div>
          <div className="fnode-sub">
            <span className="mono">{id}</span>
            {data.label && info ? <span> · {info.title}</span> : null}
            {data.sweep ? <span className="sweep-tag"> · sweep {data.sweep.dirichlet ? `${data.sweep.dirichlet.samples}×` : `${data.sweep.values?.length ?? 0}×`}</span> : null}
          </div>
        </div>
        {isSub ? <SubgraphHeadActions id={id} spec={data.subgraph} /> : null}
        {state !== 'idle' ? (
          <span className={`pill pill-${state}`} data-testid="node-state" title={staleReason ? `stale: ${staleReason}` : undefined}>
            {STATE_LABEL[state]}
          </span>
        ) : null}
      </div>
      {!info && !isSub ? (
        <div className="fnode-unknown">
          Unknown type <span className="mono">{data.type}</span> — kept as a placeholder
        </div>
      ) : null}
      {isSub ? <SubgraphBody fullId={fullId} spec={data.subgraph} /> : null}
      {summary ? (
        <div className="fnode-summary mono" title={summary}>
          {summary}
        </div>
      ) : null}
      {thresholdNote ? (
        <div className="fnode-note" role="note" title={thresholdNote} data-testid="node-threshold">
          {thresholdNote}
        </div>
      ) : null}
      {warning ? (
        <div className="fnode-warning" role="note" title={warning} data-testid="node-warning">
          ⚠ {warning}
        </div>
      ) : null}
      <div className="fnode-ports">
        {rows(ports).map((r, i) => (
          <div className="fnode-row" key={i}>
            <div className="port port-in">
              {r.input ? (
                <>
                  <Handle
                    type="target"
                    position={Position.Left}
                    id={r.input[0]}
                    className={`handle${r.input[1].multiple ? ' multi' : ''}`}
                    style={{ '--kind': kindColor(r.input[1].kind) } as React.CSSProperties}
                    data-kind={r.input[1].kind}
                  />
                  <span className="port-name" title={`${r.input[0]}: ${r.input[1].kind}${r.input[1].multiple ? ' (fan-in: any number of edges)' : r.input[1].optional ? ' (optional)' : ''}`}>
                    {r.input[1].title ?? r.input[0]}
                    {r.input[1].multiple ? <span className="port-opt"> ⋯</span> : r.input[1].optional ? <span className="port-opt">?</span> : null}
                  </span>
                </>
              ) : null}
            </div>
            <div className="port port-out">
              {r.output ? (
                <>
                  <button
                    className="port-name port-link nodrag"
                    title={`${r.output[0]}: ${r.output[1].kind} — click to see its last output`}
                    data-testid={`port-${id}-${r.output[0]}`}
                    onClick={(e) => {
                      e.stopPropagation();
                      useUi.getState().showOutput(id, (r.output as [string, PortSpec])[0]);
                    }}
                  >
                    {r.output[1].title ?? r.output[0]}
                  </button>
                  <Handle
                    type="source"
                    position={Position.Right}
                    id={r.output[0]}
                    // A click (no drag) on the dot opens this port's output, like clicking its name.
                    onClick={(e) => {
                      e.stopPropagation();
                      useUi.getState().showOutput(id, (r.output as [string, PortSpec])[0]);
                    }}
                    className="handle"
                    style={{ '--kind': kindColor(r.output[1].kind) } as React.CSSProperties}
                    data-kind={r.output[1].kind}
                  />
                </>
              ) : null}
            </div>
          </div>
        ))}
      </div>
      {chartOut ? (
        <ChartThumb nodeId={id} hash={chartOut.hash} openPort={chartOut.port} label={`${chartOut.port} chart`} />
      ) : chartInputs.length > 0 && outputs[0] ? (
        <UpstreamChartThumb nodeId={id} chartInputs={chartInputs} openPort={outputs[0].port} />
      ) : null}
      {/* Semantic zoom: below ~50 % the canvas shows only this, in type large enough to read. */}
      <div className="fnode-far" aria-hidden data-testid="node-far">
        <div className="fnode-far-title">{farTitle(title)}</div>
        <div className="fnode-far-line">
          <span className={`far-state far-${state}`}>{STATE_LABEL[state]}</span>
          {farSummary(state, statusLine, summary) ? <span className="far-summary"> · {farSummary(state, statusLine, summary)}</span> : null}
        </div>
      </div>
      <div className="fnode-status">
        <div className="fnode-bar" aria-hidden>
          <div
            className={`fnode-bar-fill${state === 'running' && pct === null ? ' indeterminate' : ''}`}
            style={{ width: state === 'running' ? `${pct ?? 100}%` : state === 'queued' ? '0%' : '100%' }}
          />
        </div>
        {/* Fixed two-line area: a node never changes height as its state changes. */}
        {state === 'failed' && status?.error ? (
          <div className="fnode-status-text error" data-testid="node-error" title={status.error}>
            {status.error}
          </div>
        ) : (
          <div className="fnode-status-line">
            <div className="fnode-status-text" data-testid="node-status" title={statusLine}>
              {statusLine}
            </div>
            {spark ? <RowSparkline fullId={fullId} port={spark.port} stamp={spark.stamp} /> : null}
          </div>
        )}
      </div>
    </div>
  );
}

export const ForgeNode = memo(ForgeNodeView);
