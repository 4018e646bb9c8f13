// Forge Studio desktop shell. The window loads the UI from the engine's own server (the same code
// path as `forge serve` in a browser); the engine runs in a separate process; the renderer is
// sandboxed with context isolation and sees only the typed bridge in preload.cts.
import { app, BrowserWindow, dialog, ipcMain, Menu, screen, session, shell } from 'electron';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEngine, type RunningEngine } from './engine-process.js';
import { buildMenu } from './menu.js';
import { clampToDisplays, StateFile } from './window-state.js';

const here = dirname(fileURLToPath(import.meta.url));
const PRELOAD = join(here, 'preload.cjs');

let win: BrowserWindow | null = null;
let engine: RunningEngine | null = null;
let doc = { title: 'Untitled pipeline', path: null as string | null, dirty: false };
let quitting = false;
let state: StateFile;

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

function defaultWorkspace(): string {
  const fromArg = argValue('workspace');
  if (fromArg) return resolve(fromArg);
  if (state.state.workspace && existsSync(state.state.workspace)) return state.state.workspace;
  const dir = join(app.getPath('documents'), 'Forge Studio');
  mkdirSync(dir, { recursive: true });
  return dir;
}

function send(command: string, arg?: string): void {
  win?.webContents.send('forge:command', command, arg);
}

function inside(root: string, file: string): string | null {
  const rel = relative(root, file);
  return rel && !rel.startsWith('..') && !rel.startsWith(sep) && !resolve(rel).startsWith('..') ? rel.split(sep).join('/') : null;
}

async function boot(workspace: string, openPath?: string): Promise<void> {
  engine?.stop();
  engine = await startEngine({
    workspace,
    packaged: app.isPackaged,
    onExit: (code) => {
      if (quitting) return;
      void dialog
        .showMessageBox({
          type: 'error',
          title: 'Engine stopped',
          message: `The Forge engine stopped unexpectedly (exit code ${code}).`,
          detail: 'Your graph is still in the window. Restart the engine to keep working; unsaved changes are kept only if you save after the restart.',
          buttons: ['Restart engine', 'Quit'],
          defaultId: 0,
        })
        .then((r) => (r.response === 0 ? boot(workspace) : app.quit()));
    },
  });
  state.state.workspace = engine.workspace;
  state.save();
  const url = new URL(engine.url);
  url.searchParams.set('token', engine.token);
  if (openPath) url.searchParams.set('file', openPath);
  await win?.loadURL(url.toString());
  updateTitle();
}

function updateTitle(): void {
  if (!win) return;
  const ws = engine ? basename(engine.workspace) : '';
  win.setTitle(`${doc.dirty ? '• ' : ''}${doc.title}${doc.path ? ` — ${doc.path}` : ''} · ${ws} · Forge Studio`);
  win.setDocumentEdited(doc.dirty);
}

function refreshMenu(): void {
  Menu.setApplicationMenu(
    buildMenu({
      command: (id) => send(id),
      open: () => void openDialog(),
      openRecent: (p) => void openFile(p),
      openWorkspace: () => void chooseWorkspace(),
      recent: () => state.state.recent,
      about: () =>
        void dialog.showMessageBox({
          type: 'info',
          title: 'About Forge Studio',
          message: `Forge Studio ${app.getVersion()}`,
          detail: `A visual dataflow notebook for building training corpora for agentic LLMs.\nWorkspace: ${engine?.workspace ?? '—'}\nElectron ${process.versions.electron}, Chromium ${process.versions.chrome}, Node ${process.versions.node}.\nCanvas: React Flow (MIT), editor: Monaco (MIT), charts: Vega-Lite (BSD-3).`,
        }),
    }),
  );
}

async function openFile(file: string): Promise<void> {
  if (!engine || !win) return;
  const abs = resolve(file);
  if (!existsSync(abs)) {
    void dialog.showMessageBox({ type: 'warning', message: `${abs} no longer exists.` });
    state.state.recent = state.state.recent.filter((p) => p !== file);
    state.save();
    refreshMenu();
    return;
  }
  state.addRecent(abs);
  app.addRecentDocument(abs);
  refreshMenu();
  const rel = inside(engine.workspace, abs);
  if (rel) {
    send('open-path', rel);
    return;
  }
  const r = await dialog.showMessageBox(win, {
    type: 'question',
    message: `${basename(abs)} is outside the current workspace.`,
    detail: `Workspace: ${engine.workspace}\n\nOpen its folder as the workspace (its relative input paths keep working), or import a copy into this workspace?`,
    buttons: ['Open its folder', 'Import a copy', 'Cancel'],
    defaultId: 0,
    cancelId: 2,
  });
  if (r.response === 0) await boot(dirname(abs), basename(abs));
  else if (r.response === 1) send('import-text', readFileSync(abs, 'utf8'));
}

async function openDialog(): Promise<void> {
  if (!win) return;
  const r = await dialog.showOpenDialog(win, {
    title: 'Open a graph',
    defaultPath: engine?.workspace,
    filters: [
      { name: 'Forge graphs', extensions: ['json'] },
      { name: 'All files', extensions: ['*'] },
    ],
    properties: ['openFile'],
  });
  const file = r.filePaths[0];
  if (!r.canceled && file) await openFile(file);
}

async function chooseWorkspace(): Promise<void> {
  if (!win) return;
  const r = await dialog.showOpenDialog(win, { title: 'Open workspace folder', properties: ['openDirectory', 'createDirectory'] });
  const dir = r.filePaths[0];
  if (!r.canceled && dir) await boot(dir);
}

function createWindow(): BrowserWindow {
  const saved = clampToDisplays(
    state.state.window,
    screen.getAllDisplays().map((d) => d.workArea),
  );
  const w = new BrowserWindow({
    x: saved.x,
    y: saved.y,
    width: saved.width,
    height: saved.height,
    minWidth: 960,
    minHeight: 600,
    show: false,
    backgroundColor: '#0e1117',
    title: 'Forge Studio',
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  });
  if (saved.maximized) w.maximize();
  w.once('ready-to-show', () => w.show());

  const remember = () => {
    if (w.isDestroyed()) return;
    const b = w.getNormalBounds();
    state.state.window = { x: b.x, y: b.y, width: b.width, height: b.height, maximized: w.isMaximized() };
    state.save();
  };
  w.on('resize', remember);
  w.on('move', remember);
  w.on('close', (e) => {
    remember();
    if (!doc.dirty || quitting) return;
    const choice = dialog.showMessageBoxSync(w, {
      type: 'warning',
      message: 'Discard unsaved changes?',
      detail: `“${doc.title}” has changes that are not saved.`,
      buttons: ['Discard and close', 'Cancel'],
      defaultId: 1,
      cancelId: 1,
    });
    if (choice === 1) e.preventDefault();
  });

  // Only our engine's pages in this window; links to the web open in the browser.
  w.webContents.setWindowOpenHandler(({ url }) => {
    // "Pop out" of the output panel: the app's own page in a window of its own.
    if (engine && url.startsWith(engine.url) && new URL(url).searchParams.get('popout') === 'output') {
      return { action: 'allow', overrideBrowserWindowOptions: { width: 1100, height: 760, autoHideMenuBar: true, title: 'Forge Studio — output' } };
    }
    if (/^https:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  w.webContents.on('will-navigate', (e, url) => {
    if (!engine || !url.startsWith(engine.url)) e.preventDefault();
  });
  return w;
}

function registerIpc(): void {
  ipcMain.handle('forge:save-file', async (e, opts: { title: string; defaultName: string; content: string }) => {
    const owner = BrowserWindow.fromWebContents(e.sender);
    if (!owner) return null;
    const r = await dialog.showSaveDialog(owner, {
      title: opts.title,
      defaultPath: join(engine?.workspace ?? app.getPath('documents'), opts.defaultName),
      filters: [{ name: 'JSON', extensions: ['json'] }],
    });
    if (r.canceled || !r.filePath) return null;
    writeFileSync(r.filePath, opts.content);
    return r.filePath;
  });
  ipcMain.handle('forge:open-file', async (e, opts: { title: string }) => {
    const owner = BrowserWindow.fromWebContents(e.sender);
    if (!owner) return null;
    const r = await dialog.showOpenDialog(owner, { title: opts.title, defaultPath: engine?.workspace, filters: [{ name: 'JSON', extensions: ['json'] }], properties: ['openFile'] });
    const file = r.filePaths[0];
    if (r.canceled || !file) return null;
    return { path: file, content: readFileSync(file, 'utf8') };
  });
  ipcMain.on('forge:document', (_e, info: { title: string; path: string | null; dirty: boolean }) => {
    doc = info;
    if (engine && info.path) {
      const abs = resolve(engine.workspace, info.path);
      if (state.state.recent[0] !== abs) {
        state.addRecent(abs);
        refreshMenu();
      }
    }
    updateTitle();
  });
}

const single = app.requestSingleInstanceLock();
if (!single) app.quit();
else {
  app.on('second-instance', (_e, argv) => {
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
    const file = argv.slice(1).find((a) => a.endsWith('.json') && existsSync(a));
    if (file) void openFile(file);
  });
  app.on('open-file', (e, file) => {
    e.preventDefault();
    void app.whenReady().then(() => openFile(file));
  });

  app.whenReady().then(
    async () => {
      state = new StateFile(join(app.getPath('userData'), 'state.json'));
      // Nothing in the renderer needs camera, mic, notifications…
      session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
      registerIpc();
      refreshMenu();
      win = createWindow();
      win.on('closed', () => (win = null));
      const fileArg = process.argv.slice(1).find((a) => a.endsWith('.forge.json') && existsSync(a));
      try {
        if (fileArg && !argValue('workspace')) await boot(dirname(resolve(fileArg)), basename(fileArg));
        else await boot(defaultWorkspace());
      } catch (err) {
        dialog.showErrorBox('Forge Studio could not start its engine', (err as Error).message);
        app.quit();
      }
    },
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      app.quit();
    },
  );

  app.on('before-quit', () => {
    quitting = true;
    engine?.stop();
  });
  app.on('window-all-closed', () => app.quit());
}
