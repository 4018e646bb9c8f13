import { useEffect, useState } from 'react';
import { api } from '../store/app';

/** Artifacts are immutable: a metrics artifact's warning is fetched once per hash. */
const known = new Map<string, string | null>();

/**
 * The `warning` a node wrote into its metrics (e.g. held-out and labelled figures disagreeing), so the
 * node itself shows it, not only the log of the run that computed it (a cached rerun logs nothing).
 */
export function useMetricsWarning(outputs: readonly { kind: string; hash: string }[]): string | null {
  const hash = outputs.find((o) => o.kind === 'metrics')?.hash ?? null;
  const [warning, setWarning] = useState<string | null>(hash ? (known.get(hash) ?? null) : null);
  useEffect(() => {
    if (!hash) return setWarning(null);
    if (known.has(hash)) return setWarning(known.get(hash) ?? null);
    let live = true;
    api
      .artifact(hash)
      .then((a) => {
        const w = a.manifest.meta.warning;
        known.set(hash, typeof w === 'string' ? w : null);
        if (live) setWarning(known.get(hash) ?? null);
      })
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [hash]);
  return warning;
}
