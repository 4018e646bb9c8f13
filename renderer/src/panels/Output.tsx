import { useEffect, useState } from 'react';
import type { LineageStep, OutputInfo, Preview } from '../api/types';
import { kindColor } from '../lib/colors';
import { api, runGraph, useGraph } from '../store/app';
import { useNodeInfo, useNodeStatus } from '../canvas/subgraphStatus';
import { displayState, formatMs } from '../store/run';
import { useUi } from '../store/ui';
import { DataTable } from './DataTable';
import { EmbeddingsScatter } from './EmbeddingsScatter';
import { LabelPanel } from './LabelPanel';
import { MarkdownReport } from './MarkdownReport';
import { ReportCharts } from './ReportCharts';
import { shownVariant } from './variant';
import { VegaChart } from './VegaChart';
import { Icon } from '../ui/Icon';

export function shortHash(h: string): string {
  return h.replace(/^sha256:/, '').slice(0, 12);
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** The last output of one node, port by port (n8n-style output panel, KNIME-style port preview). */
export function OutputPanel() {
  const target = useUi((s) => s.output);
  const node = useGraph((s) => (target ? s.nodes.find((n) => n.id === target.nodeId) : undefined));
  // Inside an opened subgraph states are keyed by full id; a subgraph node shows its exposed outputs.
  const info = useNodeInfo(node);
  const { status, stale } = useNodeStatus(node);
  // Lineage is a view mode: it follows whichever output is shown (not the one it was opened on).
  const [lineageOn, setLineageOn] = useState(false);
  const [variantPick, setVariantPick] = useState<string | null>(null);

  if (!target || !node) {
    return <div className="panel-empty">Select a node, or click an output port on a node, to see its last output.</div>;
  }
  const state = displayState(status, stale);
  const variantIds = Object.keys(status?.variants ?? {});
  const variantId = variantPick && variantIds.includes(variantPick) ? variantPick : shownVariant(node.data.params, status?.variants ?? {});
  const variant = variantId ? status?.variants?.[variantId] : undefined;
  const outputs = (variant ? variant.outputs : status?.outputs) ?? [];
  const portNames = info ? Object.keys(info.outputs) : outputs.map((o) => o.port);
  const port = target.port && portNames.includes(target.port) ? target.port : (portNames[0] ?? null);
  const out = outputs.find((o) => o.port === port);
  const pinned = node.data.pinnedOutputs;
  const canPin = info && variantIds.length === 0 && outputs.length > 0 && Object.keys(info.outputs).every((p) => outputs.some((o) => o.port === p));

  return (
    <div className="output" data-testid="output-panel">
      <div className="output-head">
        <span className="output-node mono" data-testid="output-node">
          {node.id}
        </span>
        {variantIds.length > 0 ? (
          <label className="variant-pick" title="This node is swept: pick a variant">
            <select value={variantId} onChange={(e) => setVariantPick(e.target.value)} data-testid="variant-pick">
              {variantIds.map((v) => (
                <option key={v} value={v}>
                  {v.slice(node.id.length)} · {status?.variants?.[v]?.state}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <div className="tabs small-tabs">
          {portNames.map((p) => {
            const o = outputs.find((x) => x.port === p);
            const spec = info?.outputs[p];
            return (
              <button key={p} className={`tab${p === port ? ' active' : ''}`} onClick={() => useUi.getState().showOutput(node.id, p)} data-testid={`output-port-${p}`}>
                <span className="kind-dot" style={{ background: kindColor(spec?.kind ?? o?.kind ?? '') }} />
                {spec?.title ?? p}
                {o?.rows !== null && o?.rows !== undefined ? <span className="muted small"> {o.rows.toLocaleString('en-US')}</span> : null}
              </button>
            );
          })}
        </div>
        <span className="spacer" />
        {state === 'stale' ? (
          <span className="badge warn" title={stale}>
            stale — showing the last result
          </span>
        ) : null}
        {out ? (
          <>
            <span className="muted small mono" title={out.hash}>
              {shortHash(out.hash)} · {bytes(out.bytes)}
            </span>
            <button className="btn small ghost" onClick={() => setLineageOn(!lineageOn)} data-testid="lineage-button">
              {lineageOn ? 'Data' : 'Lineage'}
            </button>
          </>
        ) : null}
        {pinned ? (
          <button className="btn small" onClick={() => useGraph.getState().setPinned(node.id, undefined)} title="Downstream nodes will use freshly computed outputs again">
            <Icon name="pin" size={13} /> Unpin
          </button>
        ) : canPin ? (
          <button
            className="btn small ghost"
            onClick={() => useGraph.getState().setPinned(node.id, Object.fromEntries(outputs.map((o) => [o.port, o.hash])))}
            title="Keep using exactly these outputs (even if params or inputs change) until unpinned"
          >
            Pin output
          </button>
        ) : null}
      </div>
      <div className="output-body">
        {state === 'failed' ? (
          <div className="callout error" data-testid="output-error">
            <strong>{node.id} failed.</strong> {status?.error}
          </div>
        ) : null}
        {lineageOn && out ? (
          <Lineage hash={out.hash} />
        ) : out && node.data.type === 'ml.label-sample' && out.port === 'labels' ? (
          <LabelPanel key={out.hash} hash={out.hash} nodeId={node.id} />
        ) : out ? (
          <>
            <ArtifactView key={out.hash} out={out} />
            <ReportCharts nodeId={node.id} />
          </>
        ) : state === 'running' || state === 'queued' ? (
          <div className="panel-empty">Running…</div>
        ) : state !== 'failed' ? (
          <div className="panel-empty">
            No output yet.{' '}
            <button className="btn small" onClick={() => runGraph('node', node.id)}>
              <Icon name="play" size={12} fill /> Run this node
            </button>
          </div>
        ) : null}
      </div>
    </div>
  );
}

export function ArtifactView({ out }: { out: Pick<OutputInfo, 'hash' | 'kind'> }) {
  const [preview, setPreview] = useState<Preview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [manifest, setManifest] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    setPreview(null);
    setError(null);
    api
      .preview(out.hash, 0, 200)
      .then((p) => live && setPreview(p))
      .catch((e: unknown) => live && setError((e as Error).message));
    if (out.kind !== 'dataset' && out.kind !== 'metrics' && out.kind !== 'chart') {
      api
        .artifact(out.hash)
        .then((a) => live && setManifest(a.manifest))
        .catch(() => {});
    }
    return () => {
      live = false;
    };
  }, [out.hash, out.kind]);
  if (error) return <div className="callout error">Cannot load this output: {error}</div>;
  if (!preview) return <div className="panel-empty">Loading…</div>;
  if (preview.kind === 'dataset') return <DataTable hash={out.hash} first={preview} />;
  if (preview.report) return <MarkdownReport markdown={preview.report} />;
  if (preview.projection) return <EmbeddingsScatter projection={preview.projection} />;
  if (preview.kind === 'metrics') return <MetricsTable data={preview.data} />;
  if (preview.kind === 'chart') return <VegaChart spec={preview.data} />;
  return (
    <div className="manifest">
      <div className="muted small">
        {preview.kind} artifact — manifest{preview.rows !== null ? ` · ${preview.rows} rows` : ''}
      </div>
      <pre className="json-block mono" data-testid="manifest">
        {JSON.stringify(manifest ?? preview.data ?? {}, null, 2)}
      </pre>
    </div>
  );
}

/** Flattens nested metrics ({train: {loss: 1}}) into dotted rows. */
export function flattenMetrics(data: unknown, prefix = ''): [string, unknown][] {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return [[prefix || 'value', data]];
  const out: [string, unknown][] = [];
  for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) out.push(...flattenMetrics(v, key));
    else out.push([key, v]);
  }
  return out;
}

export function formatValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toPrecision(6).replace(/\.?0+$/, '');
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function MetricsTable({ data }: { data: unknown }) {
  const rows = flattenMetrics(data);
  return (
    <table className="metrics" data-testid="metrics-table">
      <thead>
        <tr>
          <th>metric</th>
          <th>value</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <td className="mono">{k}</td>
            <td className="mono num">{formatValue(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Lineage({ hash }: { hash: string }) {
  const [steps, setSteps] = useState<LineageStep[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setSteps(null);
    setError(null);
    api
      .lineage(hash)
      .then((s) => {
        if (!live) return;
        setSteps(s);
        // The producing nodes light up on the canvas while the lineage is shown.
        useUi.getState().setHighlight([...new Set(s.flatMap((x) => (x.execution ? [x.execution.nodeId] : [])))]);
      })
      .catch((e: unknown) => live && setError((e as Error).message));
    return () => {
      live = false;
      useUi.getState().setHighlight([]);
    };
  }, [hash]);
  if (error) return <div className="callout error">{error}</div>;
  if (!steps) return <div className="panel-empty">Loading lineage…</div>;
  return (
    <div className="lineage" data-testid="lineage">
      <p className="muted small">Which executions, params and inputs produced this artifact, nearest first.</p>
      {steps.map((s) => (
        <div key={s.artifact} className="lineage-step">
          <div>
            <span className="kind-dot" style={{ background: kindColor(s.kind ?? '') }} /> <span className="mono">{shortHash(s.artifact)}</span> <span className="muted">{s.kind}</span>
          </div>
          {s.execution ? (
            <div className="lineage-exec">
              produced by <strong className="mono">{s.execution.nodeId}</strong>{' '}
              <span className="muted mono">
                {s.execution.nodeType}@{s.execution.nodeVersion}
              </span>{' '}
              in run <span className="mono">{s.execution.runId}</span> · {s.execution.durationMs !== null ? formatMs(s.execution.durationMs) : ''}
              {s.execution.files.length > 0 ? <div className="muted small">reads {s.execution.files.map((f) => f.path).join(', ')}</div> : null}
              <pre className="json-block mono small">{JSON.stringify(s.execution.params, null, 2)}</pre>
            </div>
          ) : (
            <div className="muted small">no recorded producer</div>
          )}
        </div>
      ))}
    </div>
  );
}
