/** What a node's metrics say about the node itself: a warning, and how a threshold was chosen. */
export interface MetricsNotes {
  warning: string | null;
  /** E.g. "threshold 0.1247 from validation rows: lowest threshold with precision ≥ 0.8 …" when picked from data, not typed in. */
  threshold: string | null;
}

/** The notes in a metrics artifact's meta (pure, so it is testable without the API). */
export function notesOf(meta: Record<string, unknown>): MetricsNotes {
  const w = meta.warning;
  const t = meta.threshold;
  const reason = meta.threshold_reason;
  const source = meta.threshold_source;
  // A fixed threshold is already in the node's params summary; only a chosen one needs saying why.
  const chosen = typeof t === 'number' && typeof reason === 'string' && (source === 'labels' || source === 'validation');
  return {
    warning: typeof w === 'string' ? w : null,
    threshold: chosen ? `threshold ${Number(t.toPrecision(4))} from ${source === 'labels' ? 'labelled rows' : 'validation rows'}: ${reason}` : null,
  };
}
