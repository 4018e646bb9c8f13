import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import { useCallback, useEffect, useRef } from 'react';
import { refreshLibrary } from './store/libraryActions';
import type { GraphDocument, NodeTypeInfo } from './api/types';
import { Canvas } from './canvas/Canvas';
import { COMMANDS, confirmDiscard, matchKeys, runCommand, viewHooks } from './commands';
import { desktop } from './desktop';
import { BottomPanel } from './panels/BottomPanel';
import { CommandPalette } from './panels/CommandPalette';
import { Inspector } from './panels/Inspector';
import { Palette } from './panels/Palette';
import { isPopOut, PopOutApp } from './panels/PopOut';
import { DEFAULT_NODE_SIZE, freeSpot } from './store/graph';
import { api, importText, isTypingTarget, loadDocument, markRunStarted, openGraph, refreshStale, reportError, scheduleValidate, useGraph } from './store/app';
import { useCatalog } from './store/catalog';
import { useRun } from './store/run';
import { useUi } from './store/ui';
import { ContextMenu } from './ui/ContextMenu';
import { Dialogs } from './ui/Dialogs';
import { Toasts } from './ui/Toasts';
import { announceRunFinished } from './ui/runFinished';
import { SideToggles } from './ui/SideToggles';
import { Toolbar } from './ui/Toolbar';

function Workbench() {
  const theme = useUi((s) => s.theme);
  const paletteOpen = useUi((s) => s.paletteOpen);
  const inspectorOpen = useUi((s) => s.inspectorOpen);
  const rf = useReactFlow();
  const fileInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  // Boot: node types, event stream, then the graph named in the URL (?file=) if any.
  useEffect(() => {
    let cancelled = false;
    const stop = api.events(
      (e) => useRun.getState().handle(e),
      (c) => useRun.getState().setConnected(c),
    );
    void (async () => {
      try {
        const types = await api.nodeTypes();
        if (cancelled) return;
        useCatalog.getState().setTypes(types);
        await refreshLibrary();
        const file = new URL(window.location.href).searchParams.get('file');
        if (file) await openGraph(file);
        // A read-only automation hook (e2e tests, benchmarks): the document as the engine would get it.
        (window as unknown as { __forge?: unknown }).__forge = {
          doc: () => useGraph.getState().toDocument(),
          status: () => useRun.getState().status,
          stale: () => useRun.getState().stale,
          load: (doc: GraphDocument) => loadDocument(doc),
          run: () => ({ active: useRun.getState().active?.runId ?? null, last: useRun.getState().lastRun?.runId ?? null }),
        };
        document.body.dataset.ready = 'true';
      } catch (err) {
        reportError(err, 'Cannot reach the engine');
      }
    })();
    return () => {
      cancelled = true;
      stop();
    };
  }, []);

  // Derived state: staleness (on edits and results), engine validation (debounced), output follows selection.
  useEffect(() => {
    const unsubGraph = useGraph.subscribe((s, prev) => {
      if (s.nodes !== prev.nodes || s.edges !== prev.edges || s.meta !== prev.meta) refreshStale();
      const dataChanged = s.edges !== prev.edges || s.meta !== prev.meta || s.nodes.length !== prev.nodes.length || s.nodes.some((n, i) => n.data !== prev.nodes[i]?.data);
      if (dataChanged) scheduleValidate();
      if (s.nodes !== prev.nodes) {
        const sel = s.nodes.filter((n) => n.selected);
        const ui = useUi.getState();
        if (sel.length === 1 && ui.output?.nodeId !== sel[0]?.id) useUi.setState({ output: { nodeId: (sel[0] as { id: string }).id, port: null } });
      }
      desktop()?.setDocument({ title: s.meta.name ?? 'Untitled pipeline', path: s.path, dirty: s.dirty });
    });
    // The inspector follows the output being viewed: opening a node's output selects that node.
    const unsubUi = useUi.subscribe((s, prev) => {
      const id = s.output?.nodeId;
      if (!id || id === prev.output?.nodeId) return;
      const sel = useGraph.getState().nodes.filter((n) => n.selected);
      if (!(sel.length === 1 && sel[0]?.id === id) && useGraph.getState().nodes.some((n) => n.id === id)) useGraph.getState().select([id]);
    });
    const unsubRun = useRun.subscribe((s, prev) => {
      if (s.active && s.active.runId !== prev.active?.runId) markRunStarted();
      if (s.status !== prev.status) refreshStale();
      if (s.lastRun && s.lastRun !== prev.lastRun) announceRunFinished(s.lastRun.summary);
    });
    return () => {
      unsubGraph();
      unsubUi();
      unsubRun();
    };
  }, []);

  // Unsaved work is not lost to an accidental reload or tab close (the desktop shell asks itself).
  useEffect(() => {
    if (desktop()) return;
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (useGraph.getState().dirty && useGraph.getState().nodes.length > 0) e.preventDefault();
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, []);

  useEffect(() => {
    viewHooks.importFile = () => {
      const d = desktop();
      if (d) {
        void d.openFile({ title: 'Import a graph or config' }).then((f) => {
          if (f) confirmDiscard(() => importText(f.content, f.path.split(/[\\/]/).pop() ?? f.path));
        });
      } else fileInput.current?.click();
    };
    return desktop()?.onCommand((cmd, arg) => {
      if (cmd === 'open-path' && arg) void openGraph(arg);
      else if (cmd === 'import-text' && arg) importText(arg, 'file');
      else runCommand(cmd);
    });
  }, []);

  const addAt = useCallback(
    (info: NodeTypeInfo, at: { x: number; y: number } | null): string => {
      let p = at;
      if (!p) {
        const el = document.querySelector('.canvas');
        const r = el?.getBoundingClientRect();
        p = rf.screenToFlowPosition(r ? { x: r.left + r.width / 2, y: r.top + r.height / 2 } : { x: 400, y: 300 });
        // Centred, then moved to the nearest free spot so a quick-added node never hides another.
        p = freeSpot(useGraph.getState().nodes, { x: p.x - DEFAULT_NODE_SIZE.width / 2, y: p.y - DEFAULT_NODE_SIZE.height / 2 });
        if (r) {
          // Bring it into view when the free spot lies outside what the canvas shows.
          const tl = rf.flowToScreenPosition(p);
          const br = rf.flowToScreenPosition({ x: p.x + DEFAULT_NODE_SIZE.width, y: p.y + DEFAULT_NODE_SIZE.height });
          if (tl.x < r.left || tl.y < r.top || br.x > r.right || br.y > r.bottom) {
            void rf.setCenter(p.x + DEFAULT_NODE_SIZE.width / 2, p.y + DEFAULT_NODE_SIZE.height / 2, { zoom: rf.getZoom(), duration: 200 });
          }
        }
      }
      return useGraph.getState().addNode(info, { x: Math.round(p.x), y: Math.round(p.y) });
    },
    [rf],
  );

  // Keyboard: commands by binding; a plain letter on the canvas opens quick-add with that letter.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const ui = useUi.getState();
      if (ui.palette.open) return;
      if (ui.dialog.kind !== 'none') {
        if (e.key === 'Escape') ui.closeDialog();
        return;
      }
      if (e.key === 'Escape') {
        ui.closeMenu();
        useGraph.getState().select([]);
        return;
      }
      const typing = isTypingTarget(e.target);
      if (typing) {
        // Saving and running still work from a field; everything else belongs to the field.
        for (const id of ['file.save', 'run.all', 'run.cancel']) {
          const c = COMMANDS.find((x) => x.id === id);
          if (c?.keys && matchKeys(e, c.keys)) {
            e.preventDefault();
            runCommand(id);
          }
        }
        return;
      }
      if (e.key === 'Backspace' && !e.ctrlKey && !e.metaKey) {
        e.preventDefault();
        runCommand('edit.delete');
        return;
      }
      if ((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === 'y') {
        e.preventDefault();
        runCommand('edit.redo');
        return;
      }
      if (e.key === 'F5') {
        e.preventDefault();
        runCommand('run.all');
        return;
      }
      for (const c of COMMANDS) {
        if (c.keys && matchKeys(e, c.keys)) {
          e.preventDefault();
          runCommand(c.id);
          return;
        }
      }
      if (!e.ctrlKey && !e.metaKey && !e.altKey && /^[a-z]$/i.test(e.key)) {
        e.preventDefault();
        ui.openPalette(e.key);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className="app">
      <Toolbar />
      <div className="main">
        {paletteOpen ? <Palette onAdd={(info) => addAt(info, null)} /> : null}
        <div className="stage">
          <SideToggles />
          <Canvas />
          <BottomPanel />
        </div>
        {inspectorOpen ? <Inspector /> : null}
      </div>
      <CommandPalette addAt={addAt} />
      <ContextMenu />
      <Dialogs />
      <Toasts />
      <input
        ref={fileInput}
        type="file"
        accept=".json,application/json"
        hidden
        data-testid="import-input"
        onChange={(e) => {
          const f = e.target.files?.[0];
          e.target.value = '';
          if (!f) return;
          void f.text().then((text) => confirmDiscard(() => importText(text, f.name)));
        }}
      />
    </div>
  );
}

export function App() {
  if (isPopOut()) return <PopOutApp />;
  return (
    <ReactFlowProvider>
      <Workbench />
    </ReactFlowProvider>
  );
}
