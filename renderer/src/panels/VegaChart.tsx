import { useEffect, useRef, useState } from 'react';
import { darkChartConfig, recolorForDark } from '../lib/chartTheme';
import { useUi } from '../store/ui';

/**
 * A chart artifact: a Vega-Lite spec (with its data inline). Rendered by vega-embed with the
 * expression interpreter instead of `new Function`, which the CSP forbids.
 */
export function VegaChart({ spec }: { spec: unknown }) {
  const host = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  const theme = useUi((s) => s.theme);
  useEffect(() => {
    let finalize: (() => void) | undefined;
    let cancelled = false;
    setError(null);
    void (async () => {
      try {
        const [{ default: embed }, { expressionInterpreter }] = await Promise.all([import('vega-embed'), import('vega-interpreter')]);
        if (cancelled || !host.current) return;
        const s = { ...((theme === 'dark' ? recolorForDark(spec) : spec) as Record<string, unknown>) };
        if (!s.width) s.width = 'container';
        const res = await embed(host.current, s as never, {
          ast: true,
          expr: expressionInterpreter,
          actions: { export: true, source: false, compiled: false, editor: false },
          theme: theme === 'dark' ? 'dark' : undefined,
          renderer: 'svg',
          config: theme === 'dark' ? darkChartConfig() : { background: 'transparent' },
        });
        finalize = () => res.finalize();
        if (cancelled) finalize();
      } catch (err) {
        if (!cancelled) setError((err as Error).message);
      }
    })();
    return () => {
      cancelled = true;
      finalize?.();
    };
  }, [spec, theme]);
  return (
    <div className="chart" data-testid="chart">
      {error ? <div className="callout error">Cannot render this chart: {error}</div> : null}
      <div ref={host} className="chart-host" />
    </div>
  );
}
