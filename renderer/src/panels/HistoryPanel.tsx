import { useCallback, useEffect, useState } from 'react';
import type { ExecutionRow, RunDetail, RunDiff, RunRow } from '../api/types';
import { api, reportError } from '../store/app';
import { formatMs, useRun } from '../store/run';
import { diffRowKind, olderNewer } from './compare';
import { ArtifactView, flattenMetrics, formatValue, shortHash } from './Output';

function when(iso: string): string {
  const d = new Date(iso);
  const today = new Date();
  return d.toDateString() === today.toDateString() ? d.toLocaleTimeString('en-GB') : d.toLocaleString('en-GB');
}

function duration(r: { startedAt: string; finishedAt: string | null }): string {
  if (!r.finishedAt) return '—';
  return formatMs(new Date(r.finishedAt).getTime() - new Date(r.startedAt).getTime());
}

/** Run history from provenance: each run, what ran vs was cached, and a side-by-side compare. */
export function HistoryPanel() {
  const [runs, setRuns] = useState<RunRow[] | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [compare, setCompare] = useState<string[]>([]);
  const lastRun = useRun((s) => s.lastRun?.runId);

  const refresh = useCallback(() => {
    api
      .runs(100)
      .then(setRuns)
      .catch((e: unknown) => reportError(e, 'Cannot load run history'));
  }, []);
  useEffect(refresh, [refresh, lastRun]);

  const toggleCompare = (id: string) => setCompare((c) => (c.includes(id) ? c.filter((x) => x !== id) : [...c.slice(-1), id]));

  return (
    <div className="history" data-testid="history-panel">
      <div className="history-list">
        <div className="log-tools">
          <strong className="small">Runs</strong>
          <span className="spacer" />
          {compare.length === 2 ? (
            <button
              className="btn small primary"
              onClick={() => {
                const pair = olderNewer(compare, runs ?? []);
                if (pair) setOpen(`diff:${pair[0]}:${pair[1]}`);
              }}
              data-testid="compare-runs"
            >
              Compare 2
            </button>
          ) : (
            <span className="muted small">tick two to compare</span>
          )}
          <button className="btn small ghost" onClick={refresh} aria-label="Refresh run history">
            ↻
          </button>
        </div>
        <div className="history-rows">
          {runs === null ? <div className="muted pad">Loading…</div> : null}
          {runs?.length === 0 ? <div className="muted pad">No runs in this workspace yet.</div> : null}
          {runs?.map((r) => (
            <div key={r.id} className={`history-row${open === r.id ? ' active' : ''}`} onClick={() => setOpen(r.id)} data-testid="history-row" data-run-id={r.id}>
              <input type="checkbox" checked={compare.includes(r.id)} onChange={() => toggleCompare(r.id)} onClick={(e) => e.stopPropagation()} aria-label={`Compare run ${r.id}`} />
              <span className={`status-dot st-${r.status}`} title={r.status} />
              <div className="history-main">
                <div>
                  <span className="mono small">{r.id}</span> <span className="muted small">{r.mode === 'all' ? 'run all' : r.mode === 'node' ? `node ${r.target}` : `from ${r.target}`}</span>
                </div>
                <div className="muted small">
                  {when(r.startedAt)} · {duration(r)} · {r.trigger} · {r.executed} ran · {r.cached} cached{r.failed ? ` · ${r.failed} failed` : ''}
                </div>
              </div>
            </div>
          ))}
        </div>
      </div>
      <div className="history-detail">
        {open?.startsWith('diff:') ? (
          <DiffView a={open.split(':')[1] as string} b={open.split(':')[2] as string} />
        ) : open ? (
          <RunView id={open} />
        ) : (
          <div className="panel-empty">Pick a run to see what ran and what was reused.</div>
        )}
      </div>
    </div>
  );
}

function RunView({ id }: { id: string }) {
  const [run, setRun] = useState<RunDetail | null>(null);
  const [artifact, setArtifact] = useState<{ hash: string; kind: string } | null>(null);
  useEffect(() => {
    setRun(null);
    setArtifact(null);
    api
      .runDetail(id)
      .then(setRun)
      .catch((e: unknown) => reportError(e));
  }, [id]);
  if (!run) return <div className="panel-empty">Loading…</div>;
  return (
    <div className="run-view" data-testid="run-detail">
      <div className="run-view-head">
        <strong className="mono">{run.id}</strong> <span className={`badge st-${run.status}`}>{run.status}</span>
        <span className="muted small">
          {run.graphName ?? 'untitled'} · graph {shortHash(run.graphHash)} ·{' '}
          {run.environment ? `${run.environment.platform} ${run.environment.arch}, ${run.environment.cores} cores, engine ${run.environment.engineVersion}` : ''}
        </span>
      </div>
      {run.error ? <div className="callout error">{run.error}</div> : null}
      <table className="grid-table">
        <thead>
          <tr>
            <th>node</th>
            <th>type</th>
            <th>status</th>
            <th>time</th>
            <th>outputs</th>
          </tr>
        </thead>
        <tbody>
          {run.executions.map((e) => (
            <tr key={e.id} data-testid="execution-row" data-node={e.nodeId} data-cached={e.cached} data-status={e.status}>
              <td className="mono">{e.nodeId}</td>
              <td className="mono muted">
                {e.nodeType}@{e.nodeVersion}
              </td>
              <td>
                <span className={`badge st-${e.cached ? 'cached' : e.status}`}>{e.cached ? 'cached' : e.status === 'succeeded' ? 'ran' : e.status}</span>
                {e.error ? <div className="small error-text">{e.error}</div> : null}
              </td>
              <td className="num">{e.durationMs !== null && !e.cached ? formatMs(e.durationMs) : ''}</td>
              <td>
                {e.outputs.map((o) => (
                  <button key={o.port} className="btn small ghost mono" onClick={() => setArtifact({ hash: o.hash, kind: '' })} title={o.hash}>
                    {o.port} {shortHash(o.hash).slice(0, 8)}
                  </button>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {artifact ? <ArtifactByHash hash={artifact.hash} /> : null}
    </div>
  );
}

function ArtifactByHash({ hash }: { hash: string }) {
  const [kind, setKind] = useState<string | null>(null);
  useEffect(() => {
    api
      .artifact(hash)
      .then((a) => setKind(a.kind))
      .catch(() => setKind('unknown'));
  }, [hash]);
  if (!kind) return null;
  return (
    <div className="history-artifact">
      <ArtifactView out={{ hash, kind: kind as 'dataset' }} />
    </div>
  );
}

const KIND_LABEL = { changed: 'changed', same: 'same', 'not-in-b': 'not executed in run B', 'not-in-a': 'not executed in run A' } as const;

function DiffView({ a, b }: { a: string; b: string }) {
  const [diff, setDiff] = useState<RunDiff | null>(null);
  const [metrics, setMetrics] = useState<Map<string, { a?: Record<string, unknown>; b?: Record<string, unknown> }>>(new Map());
  useEffect(() => {
    let live = true;
    void (async () => {
      try {
        const [d, ra, rb] = await Promise.all([api.diff(a, b), api.runDetail(a), api.runDetail(b)]);
        if (!live) return;
        setDiff(d);
        // Metrics outputs of both runs, side by side.
        const m = new Map<string, { a?: Record<string, unknown>; b?: Record<string, unknown> }>();
        const load = async (ex: ExecutionRow, side: 'a' | 'b') => {
          for (const o of ex.outputs) {
            const art = await api.artifact(o.hash).catch(() => null);
            if (art?.kind !== 'metrics') continue;
            const p = await api.preview(o.hash).catch(() => null);
            const key = `${ex.nodeId}.${o.port}`;
            const entry = m.get(key) ?? {};
            entry[side] = Object.fromEntries(flattenMetrics(p?.data));
            m.set(key, entry);
          }
        };
        await Promise.all([...ra.executions.map((e) => load(e, 'a')), ...rb.executions.map((e) => load(e, 'b'))]);
        if (live) setMetrics(m);
      } catch (e) {
        reportError(e, 'Cannot compare runs');
      }
    })();
    return () => {
      live = false;
    };
  }, [a, b]);
  if (!diff) return <div className="panel-empty">Comparing…</div>;
  return (
    <div className="run-view" data-testid="run-diff">
      <div className="run-view-head">
        <strong>Compare</strong>{' '}
        <span className="mono" title="older run (A)">
          {a}
        </span>{' '}
        →{' '}
        <span className="mono" title="newer run (B)">
          {b}
        </span>
        <span className="muted small">{diff.graphChanged ? 'graph changed' : 'same graph'}</span>
        <span className="muted small" data-testid="diff-counts">
          {(['changed', 'same', 'not-in-b', 'not-in-a'] as const)
            .map((k) => [k, diff.nodes.filter((n) => diffRowKind(n) === k).length] as const)
            .filter(([, c]) => c > 0)
            .map(([k, c]) => `${c} ${KIND_LABEL[k]}`)
            .join(' · ')}
        </span>
      </div>
      <div className="fit-table">
        <table className="grid-table">
          <thead>
            <tr>
              <th>node</th>
              <th>A</th>
              <th>B</th>
              <th>params changed</th>
              <th>outputs</th>
            </tr>
          </thead>
          <tbody>
            {diff.nodes.map((n) => (
              <tr key={n.nodeId} className={`diff-${diffRowKind(n)}${diffRowKind(n) === 'changed' ? ' changed' : ''}`} data-testid="diff-row" data-kind={diffRowKind(n)}>
                <td className="mono">{n.nodeId}</td>
                <td>{n.statusA ?? '—'}</td>
                <td>{n.statusB ?? '—'}</td>
                <td>
                  {n.paramsChanged.map((p) => (
                    <div key={p.field} className="mono small">
                      {p.field}: <span className="del">{JSON.stringify(p.a)}</span> → <span className="ins">{JSON.stringify(p.b)}</span>
                    </div>
                  ))}
                  {n.codeChanged ? <div className="small">node code changed</div> : null}
                </td>
                <td>{KIND_LABEL[diffRowKind(n)]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {metrics.size > 0 ? (
        <div className="fit-table">
          <table className="grid-table" data-testid="metrics-compare">
            <thead>
              <tr>
                <th>metric</th>
                <th>A</th>
                <th>B</th>
                <th>Δ</th>
              </tr>
            </thead>
            <tbody>
              {[...metrics.entries()].flatMap(([key, v]) =>
                [...new Set([...Object.keys(v.a ?? {}), ...Object.keys(v.b ?? {})])].map((k) => {
                  const x = v.a?.[k];
                  const y = v.b?.[k];
                  const delta = typeof x === 'number' && typeof y === 'number' ? y - x : null;
                  return (
                    <tr key={`${key}.${k}`}>
                      <td className="mono">
                        {key}.{k}
                      </td>
                      <td className="mono num">{x === undefined ? '—' : formatValue(x)}</td>
                      <td className="mono num">{y === undefined ? '—' : formatValue(y)}</td>
                      <td className="mono num">{delta === null || delta === 0 ? '' : `${delta > 0 ? '+' : ''}${formatValue(delta)}`}</td>
                    </tr>
                  );
                }),
              )}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
