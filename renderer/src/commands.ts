import { cancelRun, exportConfig, runGraph, saveGraph, selectedNodeIds, useGraph } from './store/app';
import { layoutGraph } from './canvas/autoLayout';
import { groupSelection } from './store/libraryActions';
import { useRun } from './store/run';
import { useUi } from './store/ui';

export interface Command {
  id: string;
  title: string;
  group: 'File' | 'Edit' | 'Run' | 'View' | 'Help';
  /** Shown in menus and the help overlay; "Mod" is Ctrl (⌘ on macOS). */
  keys?: string;
  run(): void;
  enabled?(): boolean;
}

export const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

export function keyLabel(keys: string): string {
  return keys
    .replace(/Mod/g, isMac ? '⌘' : 'Ctrl')
    .replace(/Shift/g, isMac ? '⇧' : 'Shift')
    .replace(/Alt/g, isMac ? '⌥' : 'Alt');
}

/** Hooks the canvas registers (they need the React Flow instance). */
export const viewHooks = {
  fitView: () => {},
  zoomIn: () => {},
  zoomOut: () => {},
  zoomReset: () => {},
  pasteAtPointer: () => useGraph.getState().paste(),
  importFile: () => {},
};

const hasSelection = () => selectedNodeIds().length > 0;
const hasSeveral = () => selectedNodeIds().length > 1;

export const COMMANDS: Command[] = [
  {
    id: 'file.new',
    title: 'New pipeline',
    group: 'File',
    keys: 'Mod+Alt+N',
    run: () =>
      confirmDiscard(() => {
        useGraph.getState().newGraph();
        useRun.getState().reset();
      }),
  },
  { id: 'file.open', title: 'Open…', group: 'File', keys: 'Mod+O', run: () => useUi.getState().openDialog({ kind: 'open' }) },
  { id: 'file.save', title: 'Save', group: 'File', keys: 'Mod+S', run: () => void saveGraph() },
  { id: 'file.saveAs', title: 'Save as…', group: 'File', keys: 'Mod+Shift+S', run: () => useUi.getState().openDialog({ kind: 'save-as' }) },
  { id: 'file.import', title: 'Import config…', group: 'File', keys: 'Mod+I', run: () => viewHooks.importFile() },
  { id: 'file.settings', title: 'Settings…', group: 'File', keys: 'Mod+,', run: () => useUi.getState().openDialog({ kind: 'settings' }) },
  { id: 'file.export', title: 'Export reproducible config', group: 'File', keys: 'Mod+E', run: () => void exportConfig() },
  { id: 'edit.undo', title: 'Undo', group: 'Edit', keys: 'Mod+Z', run: () => useGraph.getState().undo(), enabled: () => useGraph.getState().past.length > 0 },
  { id: 'edit.redo', title: 'Redo', group: 'Edit', keys: 'Mod+Shift+Z', run: () => useGraph.getState().redo(), enabled: () => useGraph.getState().future.length > 0 },
  { id: 'edit.copy', title: 'Copy', group: 'Edit', keys: 'Mod+C', run: () => void useGraph.getState().copySelection(), enabled: hasSelection },
  { id: 'edit.paste', title: 'Paste', group: 'Edit', keys: 'Mod+V', run: () => viewHooks.pasteAtPointer() },
  { id: 'edit.duplicate', title: 'Duplicate', group: 'Edit', keys: 'Mod+D', run: () => useGraph.getState().duplicate(), enabled: hasSelection },
  { id: 'edit.delete', title: 'Delete', group: 'Edit', keys: 'Delete', run: () => useGraph.getState().deleteSelected() },
  { id: 'edit.selectAll', title: 'Select all', group: 'Edit', keys: 'Mod+A', run: () => useGraph.getState().selectAll() },
  { id: 'edit.bypass', title: 'Bypass / un-bypass node', group: 'Edit', keys: 'Mod+B', run: toggleBypass, enabled: hasSelection },
  { id: 'edit.group', title: 'Group into subgraph', group: 'Edit', keys: 'Mod+G', run: groupSelection, enabled: hasSelection },
  {
    id: 'edit.layout',
    title: 'Auto-layout',
    group: 'Edit',
    keys: 'Mod+Shift+L',
    run: () => {
      const r = document.querySelector('.canvas')?.getBoundingClientRect();
      void layoutGraph(r).then(() => window.setTimeout(() => viewHooks.fitView(), 30));
    },
  },
  { id: 'edit.alignLeft', title: 'Align left edges', group: 'Edit', keys: 'Alt+Shift+L', run: () => useGraph.getState().alignSelected('left'), enabled: hasSeveral },
  { id: 'edit.alignTop', title: 'Align top edges', group: 'Edit', keys: 'Alt+Shift+T', run: () => useGraph.getState().alignSelected('top'), enabled: hasSeveral },
  { id: 'edit.alignCenterX', title: 'Align centres (vertical line)', group: 'Edit', run: () => useGraph.getState().alignSelected('center-x'), enabled: hasSeveral },
  { id: 'edit.alignCenterY', title: 'Align middles (horizontal line)', group: 'Edit', run: () => useGraph.getState().alignSelected('center-y'), enabled: hasSeveral },
  { id: 'edit.distributeX', title: 'Distribute horizontally', group: 'Edit', keys: 'Alt+Shift+H', run: () => useGraph.getState().alignSelected('distribute-x'), enabled: hasSeveral },
  { id: 'edit.distributeY', title: 'Distribute vertically', group: 'Edit', keys: 'Alt+Shift+V', run: () => useGraph.getState().alignSelected('distribute-y'), enabled: hasSeveral },
  { id: 'edit.addNode', title: 'Add node…', group: 'Edit', keys: 'Mod+K', run: () => useUi.getState().openPalette() },
  { id: 'run.all', title: 'Run all', group: 'Run', keys: 'Mod+Enter', run: () => runGraph('all') },
  { id: 'run.node', title: 'Run this node', group: 'Run', keys: 'Shift+Enter', run: () => runGraph('node'), enabled: hasSelection },
  { id: 'run.from', title: 'Run from here', group: 'Run', keys: 'Mod+Shift+Enter', run: () => runGraph('from'), enabled: hasSelection },
  { id: 'run.cancel', title: 'Cancel run', group: 'Run', keys: 'Mod+.', run: cancelRun, enabled: () => useRun.getState().active !== null },
  { id: 'view.fit', title: 'Fit view', group: 'View', keys: 'Shift+1', run: () => viewHooks.fitView() },
  { id: 'view.zoom100', title: 'Actual size (100%)', group: 'View', keys: 'Mod+0', run: () => viewHooks.zoomReset() },
  { id: 'view.zoomIn', title: 'Zoom in', group: 'View', keys: 'Mod+=', run: () => viewHooks.zoomIn() },
  { id: 'view.zoomOut', title: 'Zoom out', group: 'View', keys: 'Mod+-', run: () => viewHooks.zoomOut() },
  { id: 'view.json', title: 'Graph as JSON', group: 'View', keys: 'Mod+J', run: () => useUi.getState().openDialog({ kind: 'json' }) },
  { id: 'view.theme', title: 'Toggle dark / light theme', group: 'View', keys: 'Mod+Shift+T', run: () => useUi.getState().toggleTheme() },
  { id: 'view.panel', title: 'Toggle bottom panel', group: 'View', keys: 'Mod+`', run: () => useUi.getState().toggleBottom() },
  { id: 'view.log', title: 'Show run log', group: 'View', run: () => useUi.getState().showBottom('log') },
  { id: 'view.history', title: 'Show run history', group: 'View', keys: 'Mod+H', run: () => useUi.getState().showBottom('history') },
  { id: 'view.problems', title: 'Show problems', group: 'View', run: () => useUi.getState().showBottom('problems') },
  { id: 'help.shortcuts', title: 'Keyboard shortcuts', group: 'Help', keys: '?', run: () => useUi.getState().openDialog({ kind: 'shortcuts' }) },
];

export const commandById = new Map(COMMANDS.map((c) => [c.id, c]));

export function runCommand(id: string): boolean {
  const c = commandById.get(id);
  if (!c) return false;
  if (c.enabled && !c.enabled()) return false;
  c.run();
  return true;
}

function toggleBypass(): void {
  const g = useGraph.getState();
  const sel = g.nodes.filter((n) => n.selected);
  if (sel.length === 0) return;
  g.setBypass(
    sel.map((n) => n.id),
    !sel.every((n) => n.data.bypass),
  );
}

export function confirmDiscard(then: () => void): void {
  if (!useGraph.getState().dirty) return then();
  useUi.getState().openDialog({ kind: 'confirm', title: 'Discard unsaved changes?', message: 'The current pipeline has changes that are not saved.', confirm: 'Discard', then });
}

/** Matches a keydown against a "Mod+Shift+K" style binding. */
export function matchKeys(e: KeyboardEvent, keys: string): boolean {
  const parts = keys.split('+');
  let key = parts.pop() as string;
  if (key === '' && keys.endsWith('+')) key = '+';
  const mod = parts.includes('Mod');
  const shift = parts.includes('Shift');
  const alt = parts.includes('Alt');
  if ((isMac ? e.metaKey : e.ctrlKey) !== mod) return false;
  if (e.altKey !== alt) return false;
  if (key === '?') return e.key === '?';
  if (e.shiftKey !== shift) return false;
  if (key.length === 1 && /[0-9]/.test(key)) return e.code === `Digit${key}`;
  if (key === '=') return e.key === '=' || e.key === '+';
  if (key === 'Enter' || key === 'Delete') return e.key === key;
  if (key === '`') return e.code === 'Backquote';
  return e.key.toLowerCase() === key.toLowerCase();
}
