import { useEffect, useMemo, useState } from 'react';
import type { GraphDocument, WorkspaceFile } from '../api/types';
import { COMMANDS, keyLabel } from '../commands';
import { api, openGraph, recentFiles, reportError, saveGraph, suggestedFileName, useGraph } from '../store/app';
import { docToFlow } from '../store/graph';
import { useRun } from '../store/run';
import { useUi, type Dialog } from '../store/ui';
import { CodeEditor, loadMonaco } from './CodeEditor';
import { SettingsDialog } from './SettingsDialog';

export function Dialogs() {
  const d = useUi((s) => s.dialog);
  const close = () => useUi.getState().closeDialog();
  if (d.kind === 'none') return null;
  return (
    <div
      className="overlay"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget && d.kind !== 'trust') close();
      }}
      onKeyDown={(e) => {
        if (e.key === 'Escape') close();
      }}
    >
      {d.kind === 'open' ? <OpenDialog /> : null}
      {d.kind === 'save-as' ? <SaveAsDialog /> : null}
      {d.kind === 'json' ? <JsonDialog /> : null}
      {d.kind === 'shortcuts' ? <ShortcutsDialog /> : null}
      {d.kind === 'trust' ? <TrustDialog d={d} /> : null}
      {d.kind === 'file-picker' ? <FilePicker d={d} /> : null}
      {d.kind === 'confirm' ? <ConfirmDialog d={d} /> : null}
      {d.kind === 'settings' ? <SettingsDialog /> : null}
    </div>
  );
}

export function Modal({ title, children, footer, wide, testId }: { title: string; children: React.ReactNode; footer?: React.ReactNode; wide?: boolean; testId?: string }) {
  return (
    <div className={`modal${wide ? ' wide' : ''}`} role="dialog" aria-modal aria-label={title} data-testid={testId}>
      <div className="modal-head">
        <h3>{title}</h3>
        <button className="btn small ghost" onClick={() => useUi.getState().closeDialog()} aria-label="Close">
          ✕
        </button>
      </div>
      <div className="modal-body">{children}</div>
      {footer ? <div className="modal-foot">{footer}</div> : null}
    </div>
  );
}

function OpenDialog() {
  const [files, setFiles] = useState<{ path: string }[] | null>(null);
  const [filter, setFilter] = useState('');
  const recent = recentFiles();
  useEffect(() => {
    api
      .listGraphs()
      .then(setFiles)
      .catch((e: unknown) => reportError(e));
  }, []);
  const open = (p: string) => {
    useUi.getState().closeDialog();
    const go = () => void openGraph(p);
    if (useGraph.getState().dirty)
      useUi.getState().openDialog({ kind: 'confirm', title: 'Discard unsaved changes?', message: `Open ${p} and lose the changes to the current pipeline?`, confirm: 'Discard and open', then: go });
    else go();
  };
  const shown = (files ?? []).filter((f) => f.path.toLowerCase().includes(filter.toLowerCase()));
  return (
    <Modal title="Open a graph" testId="open-dialog">
      <input autoFocus placeholder="Filter…" value={filter} onChange={(e) => setFilter(e.target.value)} className="full" />
      {recent.length > 0 && !filter ? (
        <>
          <div className="list-head">Recent</div>
          {recent.map((p) => (
            <button key={`r:${p}`} className="list-item mono" onClick={() => open(p)}>
              {p}
            </button>
          ))}
        </>
      ) : null}
      <div className="list-head">In this workspace</div>
      <div className="list-scroll">
        {files === null ? <div className="muted pad">Loading…</div> : null}
        {files && shown.length === 0 ? <div className="muted pad">No *.forge.json files{filter ? ' match' : ' in the workspace yet'}.</div> : null}
        {shown.map((f) => (
          <button key={f.path} className="list-item mono" onClick={() => open(f.path)} data-testid="open-item">
            {f.path}
          </button>
        ))}
      </div>
    </Modal>
  );
}

function SaveAsDialog() {
  const current = useGraph.getState().path;
  const [path, setPath] = useState(current ?? suggestedFileName());
  const valid = path.endsWith('.forge.json') && !path.startsWith('/') && !path.includes('..');
  const save = async () => {
    if (!valid) return;
    if (await saveGraph(path)) useUi.getState().closeDialog();
  };
  return (
    <Modal
      title="Save graph as"
      testId="save-dialog"
      footer={
        <>
          <button className="btn" onClick={() => useUi.getState().closeDialog()}>
            Cancel
          </button>
          <button className="btn primary" disabled={!valid} onClick={() => void save()} data-testid="save-confirm">
            Save
          </button>
        </>
      }
    >
      <label className="field">
        <span className="field-label">Path in the workspace</span>
        <input
          autoFocus
          className="mono full"
          value={path}
          onChange={(e) => setPath(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') void save();
          }}
          data-testid="save-path"
        />
        <span className="field-help">Relative paths in node params (input files) resolve against this file's folder. Graph files end in .forge.json.</span>
        {!valid ? <span className="field-error">Use a workspace-relative path ending in .forge.json</span> : null}
      </label>
    </Modal>
  );
}

const GRAPH_MODEL_URI = 'forge://graph/document.forge.json';

function JsonDialog() {
  const initial = useMemo(() => `${JSON.stringify(useGraph.getState().toDocument(), null, 2)}\n`, []);
  const [text, setText] = useState(initial);
  const [markers, setMarkers] = useState<{ message: string; startLineNumber: number; severity: number }[]>([]);
  const [parseError, setParseError] = useState<string | null>(null);
  useEffect(() => {
    try {
      JSON.parse(text);
      setParseError(null);
    } catch (e) {
      setParseError((e as Error).message);
    }
  }, [text]);
  const [schemaReady, setSchemaReady] = useState(false);
  useEffect(() => {
    // The engine publishes the document's JSON Schema; Monaco validates against it as you type.
    void Promise.all([api.graphSchema(), loadMonaco()])
      .then(([schema, m]) => {
        m.setGraphSchema(schema);
        setSchemaReady(true);
      })
      .catch((e: unknown) => reportError(e, 'Cannot load the graph schema'));
  }, []);
  const errors = markers.filter((m) => m.severity >= 8);
  const apply = () => {
    try {
      const doc = JSON.parse(text) as GraphDocument;
      // Applying JSON is one undoable edit of this document (results of unchanged nodes stay).
      const g = useGraph.getState();
      g.commit();
      const { nodes, edges, meta } = docToFlow({ ...doc, edges: doc.edges ?? [], seed: doc.seed ?? 0 });
      useGraph.setState({ nodes, edges, meta, dirty: true });
      useRun.getState().reset(new Set(nodes.map((n) => n.id)));
      useUi.getState().closeDialog();
    } catch (e) {
      reportError(e, 'Cannot apply');
    }
  };
  return (
    <Modal
      title="Graph document (JSON)"
      wide
      testId="json-dialog"
      footer={
        <>
          <span className="muted small json-status" data-testid="json-status">
            {parseError
              ? `✕ ${parseError}`
              : errors.length
                ? `✕ ${errors.length} schema error${errors.length > 1 ? 's' : ''}: line ${errors[0]?.startLineNumber}: ${errors[0]?.message}`
                : schemaReady
                  ? '✓ valid against the graph schema'
                  : 'loading the schema…'}
          </span>
          <span className="spacer" />
          <button className="btn" onClick={() => useUi.getState().closeDialog()}>
            Close
          </button>
          <button className="btn primary" disabled={!!parseError || errors.length > 0 || text === initial} onClick={apply} data-testid="json-apply">
            Apply to canvas
          </button>
        </>
      }
    >
      <CodeEditor value={text} language="json" uri={GRAPH_MODEL_URI} onChange={setText} onValidate={(m) => setMarkers(m)} height="62vh" minimal={false} testId="json-editor" />
    </Modal>
  );
}

function ShortcutsDialog() {
  const groups = ['File', 'Edit', 'Run', 'View', 'Help'] as const;
  return (
    <Modal title="Keyboard shortcuts" wide testId="shortcuts-dialog">
      <div className="shortcut-grid">
        {groups.map((g) => (
          <div key={g}>
            <div className="list-head">{g}</div>
            {COMMANDS.filter((c) => c.group === g && c.keys).map((c) => (
              <div key={c.id} className="shortcut">
                <span>{c.title}</span>
                <kbd>{keyLabel(c.keys as string)}</kbd>
              </div>
            ))}
          </div>
        ))}
        <div>
          <div className="list-head">Canvas</div>
          <div className="shortcut">
            <span>Quick-add a node</span>
            <kbd>type a letter</kbd>
          </div>
          <div className="shortcut">
            <span>Box select</span>
            <kbd>Shift + drag</kbd>
          </div>
          <div className="shortcut">
            <span>Add to selection</span>
            <kbd>{keyLabel('Mod')} + click</kbd>
          </div>
          <div className="shortcut">
            <span>Pan / zoom</span>
            <kbd>drag / wheel</kbd>
          </div>
          <div className="shortcut">
            <span>Context menu</span>
            <kbd>right-click</kbd>
          </div>
          <div className="shortcut">
            <span>Node output</span>
            <kbd>double-click</kbd>
          </div>
        </div>
      </div>
    </Modal>
  );
}

function paramText(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v, null, 2);
}

function TrustDialog({ d }: { d: Extract<Dialog, { kind: 'trust' }> }) {
  const doc = useGraph.getState().toDocument();
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  return (
    <Modal
      title="Run code from an imported graph?"
      wide
      testId="trust-dialog"
      footer={
        <>
          <button className="btn" onClick={() => useUi.getState().closeDialog()} data-testid="trust-cancel">
            Don't run
          </button>
          <button
            className="btn primary"
            onClick={() => {
              useUi.getState().closeDialog();
              d.then();
            }}
            data-testid="trust-confirm"
          >
            Trust and run
          </button>
        </>
      }
    >
      <p>This graph was opened or imported and contains user code that will run on this machine, or files outside its folder and the workspace. Only run graphs from people you trust. Review it:</p>
      {d.notes && d.notes.length > 0 ? (
        <ul className="small" data-testid="trust-notes">
          {d.notes.map((note) => (
            <li key={note} className="mono">
              {note}
            </li>
          ))}
        </ul>
      ) : null}
      {d.nodes.map((n) => (
        <div key={n.nodeId} className="trust-node">
          <div className="mono small">
            <strong>{n.nodeId}</strong> <span className="muted">{byId.get(n.nodeId)?.type}</span>
          </div>
          {n.params.map((p) => (
            <pre key={p} className="json-block mono small">
              <span className="muted">{p}: </span>
              {paramText(byId.get(n.nodeId)?.params[p])}
            </pre>
          ))}
        </div>
      ))}
    </Modal>
  );
}

function dirOf(p: string | null): string {
  if (!p) return '';
  const i = p.lastIndexOf('/');
  return i === -1 ? '' : p.slice(0, i);
}

/** Workspace-relative path → path relative to the graph file's folder (how params are resolved). */
export function relativeTo(fromDir: string, target: string): string {
  const a = fromDir ? fromDir.split('/') : [];
  const b = target.split('/');
  let i = 0;
  while (i < a.length && i < b.length - 1 && a[i] === b[i]) i++;
  return [...Array(a.length - i).fill('..'), ...b.slice(i)].join('/');
}

function FilePicker({ d }: { d: Extract<Dialog, { kind: 'file-picker' }> }) {
  const [files, setFiles] = useState<WorkspaceFile[] | null>(null);
  const [filter, setFilter] = useState('');
  const [custom, setCustom] = useState('');
  const graphDir = dirOf(useGraph.getState().path);
  useEffect(() => {
    api
      .listFiles()
      .then(setFiles)
      .catch((e: unknown) => reportError(e));
  }, []);
  const choose = (workspacePath: string) => {
    useGraph.getState().setParam(d.nodeId, d.param, relativeTo(graphDir, workspacePath));
    useUi.getState().closeDialog();
  };
  const shown = (files ?? []).filter((f) => f.path.toLowerCase().includes(filter.toLowerCase())).slice(0, 400);
  return (
    <Modal title={d.mode === 'save-file' ? 'Choose an output file' : d.mode === 'glob' ? 'Choose files' : 'Choose a file'} testId="file-picker">
      <p className="muted small">
        Files in the workspace. The path is stored relative to {graphDir ? <span className="mono">{graphDir}/</span> : 'the workspace root (save the graph to anchor it elsewhere)'}.
      </p>
      <input autoFocus placeholder="Filter…" value={filter} onChange={(e) => setFilter(e.target.value)} className="full" />
      <div className="list-scroll">
        {files === null ? <div className="muted pad">Loading…</div> : null}
        {files && shown.length === 0 ? <div className="muted pad">No files match.</div> : null}
        {shown.map((f) => (
          <button key={f.path} className="list-item mono" onClick={() => choose(f.path)}>
            <span>{f.path}</span>
            <span className="muted small">{f.bytes.toLocaleString('en-US')} B</span>
          </button>
        ))}
      </div>
      {d.mode !== 'file' ? (
        <label className="field">
          <span className="field-label">{d.mode === 'glob' ? 'Or a pattern' : 'Or a new file'} (workspace-relative)</span>
          <div className="path-input">
            <input className="mono" value={custom} onChange={(e) => setCustom(e.target.value)} placeholder={d.mode === 'glob' ? 'data/prose/*.txt' : 'out/train.jsonl'} />
            <button className="btn" disabled={!custom.trim()} onClick={() => choose(custom.trim())}>
              Use
            </button>
          </div>
        </label>
      ) : null}
    </Modal>
  );
}

function ConfirmDialog({ d }: { d: Extract<Dialog, { kind: 'confirm' }> }) {
  return (
    <Modal
      title={d.title}
      footer={
        <>
          <button className="btn" onClick={() => useUi.getState().closeDialog()}>
            Cancel
          </button>
          <button
            className="btn danger"
            autoFocus
            onClick={() => {
              useUi.getState().closeDialog();
              d.then();
            }}
            data-testid="confirm-ok"
          >
            {d.confirm}
          </button>
        </>
      }
    >
      <p>{d.message}</p>
    </Modal>
  );
}
