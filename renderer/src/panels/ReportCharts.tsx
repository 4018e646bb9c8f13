import { useEffect, useState } from 'react';
import { api, useGraph } from '../store/app';
import { useCatalog } from '../store/catalog';
import { useRun } from '../store/run';
import { VegaChart } from './VegaChart';

interface ChartRef {
  from: string;
  port: string;
  hash: string;
}

/** The chart artifacts feeding a node's chart-kind inputs (the report's figures), last run's. */
function useUpstreamCharts(nodeId: string): ChartRef[] {
  const edges = useGraph((s) => s.edges);
  const type = useGraph((s) => s.nodes.find((n) => n.id === nodeId)?.data.type);
  const info = useCatalog((s) => (type ? s.types.get(type) : undefined));
  const status = useRun((s) => s.status);
  if (!info) return [];
  const chartPorts = new Set(
    Object.entries(info.inputs)
      .filter(([, p]) => p.kind === 'chart')
      .map(([k]) => k),
  );
  const out: ChartRef[] = [];
  for (const e of edges) {
    if (e.target !== nodeId || !chartPorts.has(e.targetHandle ?? '') || !e.sourceHandle) continue;
    const hash = status[e.source]?.outputs?.find((o) => o.port === e.sourceHandle)?.hash;
    if (hash) out.push({ from: e.source, port: e.sourceHandle, hash });
  }
  return out;
}

/** A report shows its charts inline (rendered as SVG), under its text, instead of file names. */
export function ReportCharts({ nodeId }: { nodeId: string }) {
  const charts = useUpstreamCharts(nodeId);
  if (charts.length === 0) return null;
  return (
    <section className="report-charts" data-testid="report-charts">
      {charts.map((c) => (
        <figure key={c.hash} className="report-chart" data-testid="report-chart">
          <figcaption className="muted small mono">
            {c.from}.{c.port}
          </figcaption>
          <ChartByHash hash={c.hash} />
        </figure>
      ))}
    </section>
  );
}

function ChartByHash({ hash }: { hash: string }) {
  const [spec, setSpec] = useState<unknown>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    api
      .preview(hash)
      .then((p) => live && setSpec(p.data))
      .catch((e: unknown) => live && setError((e as Error).message));
    return () => {
      live = false;
    };
  }, [hash]);
  if (error) return <div className="callout error">Cannot load this chart: {error}</div>;
  return spec ? <VegaChart spec={spec} /> : <div className="panel-empty">Loading…</div>;
}
