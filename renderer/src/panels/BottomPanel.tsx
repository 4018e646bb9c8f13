import { useRun } from '../store/run';
import { Icon } from '../ui/Icon';
import { useUi, type BottomTab } from '../store/ui';
import { HistoryPanel } from './HistoryPanel';
import { DiagnosticList } from './Inspector';
import { LogPanel } from './LogPanel';
import { OutputPanel } from './Output';
import { popOutOutput } from './PopOut';

const TABS: { id: BottomTab; title: string }[] = [
  { id: 'output', title: 'Output' },
  { id: 'log', title: 'Run log' },
  { id: 'history', title: 'History' },
  { id: 'problems', title: 'Problems' },
];

export function BottomPanel() {
  const tab = useUi((s) => s.bottomTab);
  const open = useUi((s) => s.bottomOpen);
  const height = useUi((s) => s.bottomHeight);
  const max = useUi((s) => s.bottomMax);
  const target = useUi((s) => s.output);
  const problems = useUi((s) => s.diagnostics.length);
  const logCount = useRun((s) => s.log.length);
  const errors = useRun((s) => s.log.reduce((n, l) => n + (l.level === 'error' ? 1 : 0), 0));

  return (
    <section
      className={`dock${open ? '' : ' closed'}${open && max ? ' maximised' : ''}`}
      style={{ height: open ? (max ? undefined : height) : 34 }}
      data-testid="bottom-panel"
      data-max={open && max ? 'true' : 'false'}
    >
      {open && !max ? (
        <div
          className="resizer"
          data-testid="dock-resizer"
          onPointerDown={(e) => {
            // Without this the drag selects every text on the page as the pointer sweeps over it.
            e.preventDefault();
            document.body.classList.add('resizing');
            const startY = e.clientY;
            const startH = height;
            const move = (ev: PointerEvent) => useUi.getState().setBottomHeight(startH + (startY - ev.clientY));
            const up = () => {
              document.body.classList.remove('resizing');
              window.removeEventListener('pointermove', move);
              window.removeEventListener('pointerup', up);
            };
            window.addEventListener('pointermove', move);
            window.addEventListener('pointerup', up);
          }}
        />
      ) : null}
      <div className="tabs dock-tabs" role="tablist">
        {TABS.map((t) => (
          <button
            key={t.id}
            role="tab"
            aria-selected={open && tab === t.id}
            className={`tab${open && tab === t.id ? ' active' : ''}`}
            onClick={() => (open && tab === t.id ? useUi.getState().toggleBottom() : useUi.getState().showBottom(t.id))}
            data-testid={`tab-${t.id}`}
          >
            {t.title}
            {t.id === 'problems' && problems > 0 ? <span className="count warn">{problems}</span> : null}
            {t.id === 'log' && logCount > 0 ? <span className={`count${errors ? ' err' : ''}`}>{errors || logCount}</span> : null}
          </button>
        ))}
        <span className="spacer" />
        {open && tab === 'output' && target ? (
          <button
            className="btn small ghost"
            onClick={() => popOutOutput(target.nodeId, target.port)}
            aria-label="Open this output in its own window"
            title="Open this output in its own tab / window"
            data-testid="dock-popout"
          >
            ⧉
          </button>
        ) : null}
        <button
          className="btn small ghost"
          onClick={() => useUi.getState().toggleBottomMax()}
          aria-label={max && open ? 'Restore panel size' : 'Maximise panel'}
          title={max && open ? 'Restore panel size' : 'Maximise panel'}
          data-testid="dock-max"
        >
          <Icon name="fit" size={14} />
        </button>
        <button className="btn small ghost" onClick={() => useUi.getState().toggleBottom()} aria-label={open ? 'Collapse panel' : 'Expand panel'}>
          {open ? '▾' : '▴'}
        </button>
      </div>
      {open ? (
        <div className="dock-body">
          {tab === 'output' ? <OutputPanel /> : null}
          {tab === 'log' ? <LogPanel /> : null}
          {tab === 'history' ? <HistoryPanel /> : null}
          {tab === 'problems' ? <Problems /> : null}
        </div>
      ) : null}
    </section>
  );
}

function Problems() {
  const diags = useUi((s) => s.diagnostics);
  if (diags.length === 0) return <div className="panel-empty">No problems: the engine accepts this graph.</div>;
  return (
    <div className="pad" data-testid="problems">
      <DiagnosticList diags={diags} />
    </div>
  );
}
