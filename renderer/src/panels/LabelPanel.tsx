import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { estimatePoolMetrics, type Side } from '../../../engine/sdk/label-metrics';
import { api, isTypingTarget, refreshStale, reportError, useGraph } from '../store/app';

interface SampleDoc {
  id: string;
  text: string;
  score: number | null;
  side: Side;
  stratum: string;
  stratumSize: number;
}

function pct(x: number): string {
  return Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : 'n/a';
}

function interval(value: number, low: number, high: number): string {
  return Number.isFinite(value) ? `${pct(value)} [${pct(low)} – ${pct(high)}]` : 'n/a';
}

/**
 * Labelling view of an `ml.label-sample` output: one document at a time, 1 = agent, 0 = not agent,
 * arrows move, Backspace clears. Every change is saved at once (PUT /api/labels); the estimate is
 * the node's own estimator run live, so the figures match what the next run reports.
 */
export function LabelPanel({ hash, nodeId }: { hash: string; nodeId: string }) {
  const path = useGraph((s) => s.path);
  const [docs, setDocs] = useState<SampleDoc[] | null>(null);
  const [sample, setSample] = useState<string | null>(null);
  const [labels, setLabels] = useState<Record<string, boolean>>({});
  const [at, setAt] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const root = useRef<HTMLDivElement>(null);
  const saveSeq = useRef(0);

  useEffect(() => {
    let live = true;
    setDocs(null);
    setError(null);
    (async () => {
      const art = await api.artifact(hash);
      const sampleHash = String(art.manifest.meta.sampleHash ?? '');
      const preview = await api.preview(hash, 0, 1000);
      const rows: SampleDoc[] = preview.records.map((r) => ({
        id: String(r.id),
        text: String(r.text ?? ''),
        score: typeof r.score === 'number' ? r.score : null,
        side: r.side === 'kept' ? 'kept' : 'rejected',
        stratum: String(r.stratum),
        stratumSize: Number(r.stratum_size),
      }));
      const current = await api.labels(nodeId, sampleHash, path);
      if (!live) return;
      setSample(sampleHash);
      setDocs(rows);
      setLabels(current.labels);
      setSaved(current.file);
      // Resume at the first unlabelled document.
      const first = rows.findIndex((d) => current.labels[d.id] === undefined);
      setAt(first < 0 ? 0 : first);
    })().catch((e: unknown) => live && setError((e as Error).message));
    return () => {
      live = false;
    };
  }, [hash, nodeId, path]);

  const update = useCallback(
    (id: string, value: boolean | null) => {
      if (!sample) return;
      setLabels((prev) => {
        const next = { ...prev };
        if (value === null) delete next[id];
        else next[id] = value;
        const seq = ++saveSeq.current;
        api
          .saveLabels(nodeId, sample, next, path)
          .then((r) => {
            if (seq !== saveSeq.current) return;
            setSaved(r.file);
            // The labels file is an input of the node: ask the engine whether it is stale now.
            refreshStale(true);
          })
          .catch((e: unknown) => reportError(e, 'Saving labels failed'));
        return next;
      });
    },
    [nodeId, sample, path],
  );

  const n = docs?.length ?? 0;
  const doc = docs?.[at];
  const onKey = (e: React.KeyboardEvent) => {
    if (!doc || isTypingTarget(e.target)) return;
    if (e.key === '1') update(doc.id, true);
    else if (e.key === '0') update(doc.id, false);
    else if (e.key === 'Backspace' || e.key === 'Delete') update(doc.id, null);
    else if (e.key === 'ArrowRight' || e.key === 'ArrowDown') setAt((i) => Math.min(n - 1, i + 1));
    else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') setAt((i) => Math.max(0, i - 1));
    else return;
    // The app's own shortcuts (Backspace deletes the selected node) must not see a labelling key.
    e.preventDefault();
    e.stopPropagation();
    // Labelling moves on, so a run of keypresses labels a run of documents.
    if (e.key === '1' || e.key === '0') setAt((i) => Math.min(n - 1, i + 1));
  };

  const est = useMemo(() => estimatePoolMetrics((docs ?? []).map((d) => ({ side: d.side, stratum: d.stratum, stratumSize: d.stratumSize, label: labels[d.id] ?? null }))), [docs, labels]);

  if (error) return <div className="callout error">Cannot load the sample: {error}</div>;
  if (!docs) return <div className="panel-empty">Loading the sample…</div>;
  if (!doc) return <div className="panel-empty">The sample is empty: both inputs have no rows.</div>;
  const label = labels[doc.id];
  const done = docs.filter((d) => labels[d.id] !== undefined).length;

  return (
    <div
      className="label-panel"
      ref={root}
      tabIndex={0}
      onKeyDown={onKey}
      data-testid="label-panel"
      role="group"
      aria-label={`Label documents: 1 agent, 0 not agent, arrows to move, Backspace clears`}
    >
      <div className="label-bar">
        <span className="label-progress" data-testid="label-progress" aria-live="polite">
          {done} / {n} labelled
        </span>
        <progress max={n} value={done} aria-label="Labelling progress" />
        <span className="spacer" />
        <span className="label-metric" data-testid="label-precision" title="Estimated precision of the kept side on the whole pool (95 % Wilson interval, weighted by score band)">
          P {interval(est.precision, est.precisionLow, est.precisionHigh)}
        </span>
        <span className="label-metric" data-testid="label-recall" title="Estimated recall on the whole pool (95 % Wilson interval, weighted by score band)">
          R {interval(est.recall, est.recallLow, est.recallHigh)}
        </span>
      </div>
      <div className="label-doc-head">
        <button className="btn small ghost" onClick={() => setAt(Math.max(0, at - 1))} disabled={at === 0} aria-label="Previous document">
          ←
        </button>
        <span className="mono" data-testid="label-position">
          {at + 1} / {n}
        </span>
        <button className="btn small ghost" onClick={() => setAt(Math.min(n - 1, at + 1))} disabled={at === n - 1} aria-label="Next document">
          →
        </button>
        <span className={`badge side-${doc.side}`}>{doc.side}</span>
        <span className="muted small mono">score {doc.score === null ? 'none' : doc.score.toFixed(4)}</span>
        <span className="muted small mono" title={`${doc.stratumSize} pool documents in this score band`}>
          band {doc.stratum}
        </span>
        <span className="muted small mono label-id" title={doc.id}>
          {doc.id}
        </span>
        <span className="spacer" />
        <span className={`label-state${label === true ? ' yes' : label === false ? ' no' : ''}`} data-testid="label-state">
          {label === true ? 'agent' : label === false ? 'not agent' : 'unlabelled'}
        </span>
      </div>
      <div className="label-text" data-testid="label-text">
        {doc.text}
      </div>
      <div className="label-actions">
        <button className={`btn small${label === true ? ' primary' : ''}`} aria-pressed={label === true} onClick={() => update(doc.id, true)}>
          <kbd>1</kbd> Agent
        </button>
        <button className={`btn small${label === false ? ' primary' : ''}`} aria-pressed={label === false} onClick={() => update(doc.id, false)}>
          <kbd>0</kbd> Not agent
        </button>
        <button className="btn small ghost" onClick={() => update(doc.id, null)} disabled={label === undefined}>
          <kbd>⌫</kbd> Clear
        </button>
        <span className="spacer" />
        <span className="muted small">{saved ? `saved to ${saved} · rerun the node to record the labels` : null}</span>
      </div>
    </div>
  );
}
