import { useEffect, useRef, useState } from 'react';
import { createPortal } from 'react-dom';
import type { WorkerInfo } from '../api/types';
import { api } from '../store/app';
import { useUi } from '../store/ui';

const QUEUE_URL = /^redis:\/\/\S+$/;
/** How often the open Workers view asks again: heartbeats arrive every 3 s. */
const REFRESH_MS = 2000;

/** `redis://:secret@host` → `redis://:***@host`: the toolbar and titles never show a password. */
function shown(url: string): string {
  return url.replace(/^(redis:\/\/[^:@/]*:)[^@]*@/, '$1***@');
}

function since(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/**
 * The run setting "where units run" (local threads or a Redis queue's `forge worker`s) as a toolbar
 * button, and a popover with the setting and the workers connected to the queue, refreshed while open.
 */
export function RunTarget() {
  const queue = useUi((s) => s.runQueue);
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  return (
    <>
      <button
        ref={button}
        className={`tbtn run-target${queue ? ' on-queue' : ''}`}
        onClick={() => setOpen((o) => !o)}
        title={queue ? `Runs send work units to the queue ${shown(queue)}; click for its workers` : 'Runs use this machine’s threads; click to run on a Redis queue of forge workers'}
        aria-haspopup="dialog"
        aria-expanded={open}
        data-testid="run-target"
      >
        <span className="rt-dot" aria-hidden />
        <span className="rt-label">{queue ? 'Queue' : 'Local'}</span>
      </button>
      {open ? <RunTargetPopover anchor={button.current} onClose={() => setOpen(false)} /> : null}
    </>
  );
}

function RunTargetPopover({ anchor, onClose }: { anchor: HTMLElement | null; onClose: () => void }) {
  const queue = useUi((s) => s.runQueue);
  const [mode, setMode] = useState<'local' | 'queue'>(queue ? 'queue' : 'local');
  const [draft, setDraft] = useState(queue ?? 'redis://127.0.0.1:6379');
  const [workers, setWorkers] = useState<WorkerInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const box = useRef<HTMLDivElement>(null);
  // Placed from the button's position, so it follows a resized window.
  const [, relayout] = useState(0);
  useEffect(() => {
    const again = () => relayout((n) => n + 1);
    window.addEventListener('resize', again);
    return () => window.removeEventListener('resize', again);
  }, []);

  // Closes on Escape and on a click outside (the toolbar button toggles it itself).
  useEffect(() => {
    const key = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    const down = (e: MouseEvent) => {
      const t = e.target as Node;
      if (!box.current?.contains(t) && !anchor?.contains(t)) onClose();
    };
    window.addEventListener('keydown', key);
    window.addEventListener('mousedown', down);
    return () => {
      window.removeEventListener('keydown', key);
      window.removeEventListener('mousedown', down);
    };
  }, [anchor, onClose]);

  // Polls one request at a time, so a slow Redis never piles requests up.
  useEffect(() => {
    if (!queue) {
      setWorkers(null);
      setError(null);
      return;
    }
    let stopped = false;
    let timer: number | undefined;
    const poll = () => {
      api
        .workers(queue)
        .then((r) => {
          if (stopped) return;
          setWorkers(r.workers.slice().sort((a, b) => a.host.localeCompare(b.host) || a.pid - b.pid));
          setError(null);
        })
        .catch((e: unknown) => {
          if (!stopped) setError((e as Error).message);
        })
        .finally(() => {
          if (!stopped) timer = window.setTimeout(poll, REFRESH_MS);
        });
    };
    poll();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [queue]);

  const valid = QUEUE_URL.test(draft.trim());
  const apply = () => {
    if (mode === 'local') useUi.getState().setRunQueue(null);
    else if (valid) useUi.getState().setRunQueue(draft.trim());
  };
  const r = anchor?.getBoundingClientRect();
  const width = 420;
  const left = r ? Math.max(8, Math.min(r.left, window.innerWidth - width - 8)) : 8;

  return createPortal(
    <div ref={box} className="popover run-target-pop" role="dialog" aria-label="Where runs execute" style={{ top: (r?.bottom ?? 48) + 6, left, width }} data-testid="run-target-pop">
      <div className="rt-head">Run on</div>
      <label className="rt-choice">
        <input
          type="radio"
          name="run-target"
          checked={mode === 'local'}
          onChange={() => {
            setMode('local');
            useUi.getState().setRunQueue(null);
          }}
          data-testid="rt-local"
        />
        <span>
          <b>This machine</b>
          <span className="muted"> — the engine&apos;s own threads</span>
        </span>
      </label>
      <label className="rt-choice">
        <input type="radio" name="run-target" checked={mode === 'queue'} onChange={() => setMode('queue')} data-testid="rt-queue" />
        <span>
          <b>Redis queue</b>
          <span className="muted"> — </span>
          <code>forge worker</code>
          <span className="muted"> processes take the units</span>
        </span>
      </label>
      {mode === 'queue' ? (
        <form
          className="rt-url"
          onSubmit={(e) => {
            e.preventDefault();
            apply();
          }}
        >
          <input className="full mono" value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="redis://host:6379" aria-label="Queue address" spellCheck={false} data-testid="rt-url" />
          <button className="btn primary small" type="submit" disabled={!valid || draft.trim() === queue} data-testid="rt-use">
            {draft.trim() === queue ? 'In use' : 'Use'}
          </button>
        </form>
      ) : null}
      {mode === 'queue' && !valid ? <div className="error-text rt-note">The queue is a redis://host:port address.</div> : null}
      {queue ? (
        <div className="rt-workers" data-testid="rt-workers">
          <div className="rt-head">
            Workers <span className="muted mono rt-on">on {shown(queue)}</span>
          </div>
          {error ? (
            <div className="error-text rt-note" role="alert" data-testid="rt-error">
              {error}
            </div>
          ) : null}
          {!error && workers === null ? <div className="muted rt-note">Looking…</div> : null}
          {!error && workers?.length === 0 ? (
            <div className="muted rt-note" data-testid="rt-none">
              No worker connected. Start one on a machine that mounts this workspace&apos;s <code>.forge</code> folder:
              <code className="rt-cmd">forge worker --queue {shown(queue)} --store &lt;.forge&gt;</code>
            </div>
          ) : null}
          {!error && workers && workers.length > 0 ? (
            <ul className="diag-list rt-list">
              {workers.map((w) => (
                <li key={w.id} data-testid="rt-worker">
                  <div className="rt-who">
                    <span className="mono">{w.host}</span>
                    <span className="muted">
                      {' '}
                      · pid {w.pid} · since {since(w.startedAt)}
                    </span>
                  </div>
                  <div className="rt-what">
                    {w.running.length === 0 ? (
                      <span className="muted">idle</span>
                    ) : (
                      w.running.map((u) => (
                        <span key={u.jobId} className="rt-unit" title={`job ${u.jobId}, since ${since(u.since)}`}>
                          <b>{u.nodeId}</b> <span className="muted">{u.nodeType}</span>
                          {u.shards !== undefined ? <span className="badge">shards {u.shards}</span> : null}
                        </span>
                      ))
                    )}
                  </div>
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </div>,
    document.body,
  );
}
