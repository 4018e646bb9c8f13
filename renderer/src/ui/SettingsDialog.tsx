import { useEffect, useState } from 'react';
import { ApiError, type AppSettings } from '../api/client';
import { api, reportError } from '../store/app';
import { Modal } from './Dialogs';

/**
 * Granted folders: folders outside the graph folder and the workspace that graphs on this workspace
 * may read and write without asking. The engine keeps the list in the workspace and checks it on
 * every run (and when a node opens a path at run time), so this is the only place it changes.
 */
export function SettingsDialog() {
  const [settings, setSettings] = useState<AppSettings | null>(null);
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api
      .settings()
      .then(setSettings)
      .catch((e: unknown) => reportError(e, 'Cannot read settings'));
  }, []);

  const save = async (grantedFolders: string[]): Promise<boolean> => {
    setBusy(true);
    try {
      setSettings(await api.saveSettings({ grantedFolders }));
      setError(null);
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status === 400) setError(e.message);
      else reportError(e, 'Cannot save settings');
      return false;
    } finally {
      setBusy(false);
    }
  };

  const folders = settings?.grantedFolders ?? [];
  const add = async () => {
    const path = draft.trim();
    if (!path) return;
    if (await save([...folders, path])) setDraft('');
  };

  return (
    <Modal title="Settings" wide testId="settings-dialog">
      <div className="field">
        <span className="field-label">Granted folders</span>
        <span className="field-help">
          Graphs on this workspace may read and write these folders without asking, as they may the graph&apos;s own folder and the workspace. Anything else outside needs your trust before a run, and
          a node can never open an undeclared path outside them at run time.
        </span>
      </div>
      <div className="list-scroll granted-list" data-testid="granted-list">
        {settings === null ? <div className="muted pad">Loading…</div> : null}
        {settings && folders.length === 0 ? (
          <div className="muted pad" data-testid="granted-empty">
            No folders granted.
          </div>
        ) : null}
        {folders.map((f) => (
          <div key={f} className="granted-row" data-testid="granted-item">
            <span className="mono granted-path" title={f}>
              {f}
            </span>
            <button className="btn small" disabled={busy} onClick={() => void save(folders.filter((x) => x !== f))} aria-label={`Remove ${f}`} data-testid="granted-remove">
              Remove
            </button>
          </div>
        ))}
        {(settings?.sessionGranted ?? []).map((f) => (
          <div key={`s:${f}`} className="granted-row" title="Granted for this session with --allow">
            <span className="mono granted-path muted">{f}</span>
            <span className="badge">--allow</span>
          </div>
        ))}
      </div>
      <form
        className="granted-add"
        onSubmit={(e) => {
          e.preventDefault();
          void add();
        }}
      >
        <input className="full mono" placeholder="/absolute/path/to/a/folder" value={draft} onChange={(e) => setDraft(e.target.value)} aria-label="Folder to grant" data-testid="granted-input" />
        <button className="btn primary" type="submit" disabled={busy || draft.trim() === ''} data-testid="granted-add">
          Add folder
        </button>
      </form>
      {error ? (
        <div className="error-text" role="alert" data-testid="granted-error">
          {error}
        </div>
      ) : null}
    </Modal>
  );
}
