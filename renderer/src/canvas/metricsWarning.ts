import { useEffect, useState } from 'react';
import { api } from '../store/app';
import { notesOf, type MetricsNotes } from './metricsNotes';

const NONE: MetricsNotes = { warning: null, threshold: null };

/** Artifacts are immutable: a metrics artifact's notes are fetched once per hash. */
const known = new Map<string, MetricsNotes>();

/**
 * The `warning` a node wrote into its metrics (e.g. held-out and labelled figures disagreeing) and the
 * threshold it chose with why, so the node itself shows them, not only the log of the run that
 * computed them (a cached rerun logs nothing).
 */
export function useMetricsNotes(outputs: readonly { kind: string; hash: string }[]): MetricsNotes {
  const hash = outputs.find((o) => o.kind === 'metrics')?.hash ?? null;
  const [notes, setNotes] = useState<MetricsNotes>(hash ? (known.get(hash) ?? NONE) : NONE);
  useEffect(() => {
    if (!hash) return setNotes(NONE);
    if (known.has(hash)) return setNotes(known.get(hash) ?? NONE);
    let live = true;
    api
      .artifact(hash)
      .then((a) => {
        known.set(hash, notesOf(a.manifest.meta as Record<string, unknown>));
        if (live) setNotes(known.get(hash) ?? NONE);
      })
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [hash]);
  return notes;
}
