import { useEffect, useRef, useState } from 'react';
import { useGraph } from '../store/app';
import { useRun } from '../store/run';

const SHOW = 1500;

/** The run log: engine events and node log lines, newest at the bottom, following while at the end. */
export function LogPanel() {
  const log = useRun((s) => s.log);
  const [onlySelected, setOnlySelected] = useState(false);
  const selected = useGraph((s) => s.nodes.find((n) => n.selected)?.id ?? null);
  const box = useRef<HTMLDivElement>(null);
  const atEnd = useRef(true);
  const lines = (onlySelected && selected ? log.filter((l) => l.nodeId === selected) : log).slice(-SHOW);

  useEffect(() => {
    const el = box.current;
    if (el && atEnd.current) el.scrollTop = el.scrollHeight;
  }, [lines.length, log]);

  return (
    <div className="log" data-testid="log-panel">
      <div className="log-tools">
        <label className="toggle small">
          <input type="checkbox" checked={onlySelected} onChange={(e) => setOnlySelected(e.target.checked)} />
          <span>Only selected node{selected ? ` (${selected})` : ''}</span>
        </label>
        <span className="spacer" />
        <span className="muted small">{log.length} lines</span>
        <button className="btn small ghost" onClick={() => useRun.getState().clearLog()}>
          Clear
        </button>
      </div>
      <div
        className="log-lines mono"
        ref={box}
        onScroll={(e) => {
          const el = e.currentTarget;
          atEnd.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {lines.length === 0 ? <div className="muted pad">Run something to see its log here.</div> : null}
        {lines.map((l) => (
          <div key={l.seq} className={`log-line lvl-${l.level}`}>
            <span className="log-time">{new Date(l.time).toLocaleTimeString('en-GB')}</span>
            <span className="log-node">{l.nodeId ?? 'run'}</span>
            <span className="log-msg">{l.message}</span>
          </div>
        ))}
      </div>
    </div>
  );
}
