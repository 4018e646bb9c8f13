import { useRef } from 'react';
import { commandById, keyLabel, runCommand } from '../commands';
import { useGraph } from '../store/app';
import { useRun } from '../store/run';
import { useUi } from '../store/ui';
import { Icon } from './Icon';
import { RunTarget } from './RunTarget';
import { useToolbarFit } from './toolbarFit';

function Btn({
  cmd,
  label,
  icon,
  primary,
  testId,
  disabled,
  fill,
  compact,
}: {
  cmd: string;
  label?: string;
  icon?: string;
  primary?: boolean;
  testId?: string;
  disabled?: boolean;
  fill?: boolean;
  compact?: boolean;
}) {
  const c = commandById.get(cmd);
  const title = c ? `${c.title}${c.keys ? ` (${keyLabel(c.keys)})` : ''}` : cmd;
  return (
    <button
      className={`tbtn${primary ? ' primary' : ''}${compact ? ' compact' : ''}`}
      title={title}
      aria-label={c?.title ?? cmd}
      onClick={() => runCommand(cmd)}
      data-testid={testId ?? `tb-${cmd}`}
      disabled={disabled}
    >
      {icon ? <Icon name={icon} size={fill ? 14 : 16} fill={fill} /> : null}
      {label ? <span className="tlabel">{label}</span> : null}
    </button>
  );
}

export function Toolbar() {
  const toolbarRef = useRef<HTMLElement>(null);
  useToolbarFit(toolbarRef);
  const name = useGraph((s) => s.meta.name);
  const path = useGraph((s) => s.path);
  const dirty = useGraph((s) => s.dirty);
  const canUndo = useGraph((s) => s.past.length > 0);
  const canRedo = useGraph((s) => s.future.length > 0);
  const hasSel = useGraph((s) => s.nodes.some((n) => n.selected));
  const active = useRun((s) => s.active);
  const connected = useRun((s) => s.connected);
  const theme = useUi((s) => s.theme);
  const continueOnFailure = useUi((s) => s.continueOnFailure);
  const trusted = useGraph((s) => s.trusted);
  const running = active !== null;
  const done = useRun((s) => (s.active ? s.active.nodes.filter((id) => ['done', 'cached', 'failed', 'skipped', 'bypassed', 'pinned', 'cancelled'].includes(s.status[id]?.state ?? '')).length : 0));

  return (
    <header className="toolbar" data-testid="toolbar" ref={toolbarRef}>
      <div className="brand">
        <span className="logo" aria-hidden>
          ◆
        </span>
        <span className="brand-name">Forge Studio</span>
      </div>
      <div className="doc-title" title={path ?? 'not saved yet'}>
        <span className="doc-name" data-testid="doc-name">
          {name || 'Untitled pipeline'}
        </span>
        <span className="doc-flags">
          {dirty ? <span className="dirty-dot" title="Unsaved changes" data-testid="dirty" /> : null}
          {!trusted ? (
            <span className="badge warn" title="This graph was opened or imported and contains user code; you will be asked before it runs" data-testid="untrusted">
              untrusted
            </span>
          ) : null}
        </span>
        <span className="doc-path muted mono">{path ?? 'not saved yet'}</span>
      </div>
      <div className="tgroup">
        <Btn cmd="file.open" icon="open" />
        <Btn cmd="file.save" icon="save" />
        <Btn cmd="file.import" icon="import" label="Import" testId="tb-import" compact />
        <Btn cmd="file.export" icon="export" label="Export" testId="tb-export" compact />
        <Btn cmd="view.json" icon="code" label="JSON" compact />
      </div>
      <div className="tgroup">
        <Btn cmd="edit.undo" icon="undo" disabled={!canUndo} testId="tb-undo" />
        <Btn cmd="edit.redo" icon="redo" disabled={!canRedo} testId="tb-redo" />
        <Btn cmd="edit.layout" icon="layout" />
        <Btn cmd="view.fit" icon="fit" />
      </div>
      <div className="tgroup run-group">
        <Btn cmd="run.all" icon="play" fill label="Run all" primary testId="run-all" disabled={running} />
        <Btn cmd="run.node" icon="step" label="Run node" testId="run-node" disabled={running || !hasSel} />
        <Btn cmd="run.from" icon="forward" label="Run from" testId="run-from" disabled={running || !hasSel} />
        <Btn cmd="run.cancel" icon="stop" fill label="Cancel" testId="run-cancel" disabled={!running} />
        <RunTarget />
        <label className="run-opt" title="When a node fails, keep running the branches that do not depend on it (the summary lists what was skipped)">
          <input type="checkbox" checked={continueOnFailure} onChange={(e) => useUi.getState().setContinueOnFailure(e.target.checked)} data-testid="continue-on-failure" />
          <span className="tlabel">keep going on failure</span>
          <span className="tlabel-short">keep going</span>
        </label>
        <span className="run-progress" data-testid="run-progress">
          {running ? `${done} / ${active.nodes.length}` : ''}
        </span>
      </div>
      <span className="spacer" />
      <span className={`conn ${connected ? 'ok' : 'down'}`} title={connected ? 'Connected to the engine' : 'Engine connection lost — reconnecting'} data-testid="engine-status">
        <span className="conn-dot" /> {connected ? 'engine' : 'offline'}
      </span>
      <button className="tbtn" onClick={() => useUi.getState().toggleTheme()} title={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`} aria-label="Toggle theme" data-testid="theme-toggle">
        <Icon name={theme === 'dark' ? 'sun' : 'moon'} />
      </button>
      <Btn cmd="file.settings" icon="sliders" testId="tb-settings" />
      <Btn cmd="help.shortcuts" icon="help" />
    </header>
  );
}
