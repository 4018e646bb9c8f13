import { useEffect, useState } from 'react';
import type { GraphDocument } from '../api/types';
import { api, loadDocument, reportError } from '../store/app';
import { useCatalog } from '../store/catalog';
import { useRun, type NodeStatus } from '../store/run';
import { useUi } from '../store/ui';
import { OutputPanel } from './Output';

interface OpenerHook {
  doc(): GraphDocument;
  status(): Record<string, NodeStatus>;
}

/** True in a window opened by "pop out": it shows one output panel and nothing else. */
export function isPopOut(): boolean {
  return new URL(window.location.href).searchParams.get('popout') === 'output';
}

/**
 * Opens the output of `nodeId` in its own browser tab (or, in the desktop app, its own window).
 * The new window keeps the session token and reads the graph and run state from this window.
 */
export function popOutOutput(nodeId: string, port: string | null): Window | null {
  const url = new URL(window.location.href);
  url.searchParams.set('popout', 'output');
  url.searchParams.set('node', nodeId);
  if (port) url.searchParams.set('port', port);
  else url.searchParams.delete('port');
  return window.open(url.toString(), `forge-output-${nodeId}`);
}

function openerHook(): OpenerHook | null {
  try {
    return ((window.opener as { __forge?: OpenerHook } | null)?.__forge ?? null) as OpenerHook | null;
  } catch {
    return null;
  }
}

/** The popped-out output window: the graph and statuses mirror the main window once a second. */
export function PopOutApp() {
  const [ready, setReady] = useState(false);
  const theme = useUi((s) => s.theme);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  useEffect(() => {
    const params = new URL(window.location.href).searchParams;
    const nodeId = params.get('node') ?? '';
    document.title = `${nodeId} — Forge Studio output`;
    let timer = 0;
    void api
      .nodeTypes()
      .then((types) => {
        useCatalog.getState().setTypes(types);
        const hook = openerHook();
        if (!hook) throw new Error('the main window is closed: pop the output out again from the app');
        loadDocument(hook.doc());
        useRun.setState({ status: hook.status() });
        useUi.setState({ output: { nodeId, port: params.get('port') }, bottomTab: 'output' });
        setReady(true);
        document.body.dataset.ready = 'true';
        timer = window.setInterval(() => {
          const h = openerHook();
          if (h) useRun.setState({ status: h.status() });
        }, 1000);
      })
      .catch((err: unknown) => reportError(err, 'Cannot show this output'));
    return () => window.clearInterval(timer);
  }, []);
  return (
    <div className="popout" data-testid="popout">
      {ready ? <OutputPanel /> : <div className="panel-empty">Loading…</div>}
    </div>
  );
}
