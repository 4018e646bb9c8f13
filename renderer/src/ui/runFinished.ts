import type { RunSummary } from '../api/types';
import { useUi } from '../store/ui';

export interface RunTally {
  ran: number;
  cached: number;
  failed: string[];
  skipped: string[];
}

/** Counts a run's outcomes by base node (a sweep's variants count once per node). */
export function tallyRun(summary: RunSummary): RunTally {
  const by = new Map<string, Set<string>>();
  for (const n of summary.nodes) {
    let s = by.get(n.state);
    if (!s) by.set(n.state, (s = new Set()));
    s.add(n.baseNodeId || n.nodeId);
  }
  const ids = (state: string) => [...(by.get(state) ?? [])];
  return { ran: ids('executed').length, cached: ids('cached').length + ids('pinned').length, failed: ids('failed'), skipped: ids('skipped') };
}

export function runFinishedText(summary: RunSummary): { title: string; detail: string } {
  const t = tallyRun(summary);
  const parts = [`${t.ran} ran`, `${t.cached} cached`, `${t.failed.length} failed`];
  const title = summary.status === 'succeeded' ? 'Run finished' : summary.status === 'cancelled' ? 'Run cancelled' : 'Run finished with failures';
  const skipped = t.skipped.length ? ` — skipped (downstream of a failure): ${t.skipped.slice(0, 6).join(', ')}${t.skipped.length > 6 ? ` +${t.skipped.length - 6}` : ''}` : '';
  return { title, detail: `${parts.join(' · ')}${skipped}` };
}

/** Asked once, when the user starts a run (a gesture), so a later background notice can show. */
export function requestNotificationPermission(): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'default') return;
  void Notification.requestPermission().catch(() => undefined);
}

/** A toast in the window, and a desktop notification when the window is in the background. */
export function announceRunFinished(summary: RunSummary): void {
  const { title, detail } = runFinishedText(summary);
  const kind = summary.status === 'succeeded' ? 'success' : summary.status === 'cancelled' ? 'warn' : 'error';
  useUi.getState().toast({ kind, title, detail }, summary.status === 'succeeded' ? 6000 : 12000);
  if (typeof document !== 'undefined' && document.visibilityState === 'hidden' && typeof Notification !== 'undefined' && Notification.permission === 'granted') {
    try {
      new Notification(`Forge Studio — ${title}`, { body: detail, tag: `forge-run-${summary.runId}` });
    } catch {
      /* some embedders forbid the constructor; the toast is still there */
    }
  }
}
