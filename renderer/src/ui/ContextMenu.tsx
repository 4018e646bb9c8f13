import { useEffect } from 'react';
import { keyLabel } from '../commands';
import { runGraph, useGraph } from '../store/app';
import { useCatalog } from '../store/catalog';
import { useRun } from '../store/run';
import { useUi } from '../store/ui';
import { viewHooks } from '../commands';
import { groupSelection, saveToLibrary } from '../store/libraryActions';

interface Item {
  label: string;
  keys?: string;
  run(): void;
  danger?: boolean;
  disabled?: boolean;
  testId?: string;
}

export function ContextMenu() {
  const menu = useUi((s) => s.menu);
  useEffect(() => {
    if (!menu) return;
    const close = (e: Event) => {
      if (e instanceof KeyboardEvent && e.key !== 'Escape') return;
      useUi.getState().closeMenu();
    };
    window.addEventListener('keydown', close);
    window.addEventListener('blur', close);
    return () => {
      window.removeEventListener('keydown', close);
      window.removeEventListener('blur', close);
    };
  }, [menu]);
  if (!menu) return null;
  const g = useGraph.getState();
  const running = useRun.getState().active !== null;
  const node = menu.nodeId ? g.nodes.find((n) => n.id === menu.nodeId) : undefined;
  const status = menu.nodeId ? useRun.getState().status[menu.nodeId] : undefined;
  const info = node ? useCatalog.getState().types.get(node.data.type) : undefined;
  const items: (Item | 'sep')[] = node
    ? [
        { label: 'Run this node', keys: 'Shift+Enter', run: () => runGraph('node', node.id), disabled: running, testId: 'ctx-run-node' },
        { label: 'Run from here', keys: 'Mod+Shift+Enter', run: () => runGraph('from', node.id), disabled: running, testId: 'ctx-run-from' },
        { label: 'Show output', run: () => useUi.getState().showOutput(node.id, null) },
        'sep',
        { label: node.data.bypass ? 'Un-bypass' : 'Bypass', keys: 'Mod+B', run: () => g.setBypass([node.id], !node.data.bypass) },
        node.data.pinnedOutputs
          ? { label: 'Unpin outputs', run: () => g.setPinned(node.id, undefined) }
          : {
              label: 'Pin outputs',
              disabled: !info || !status?.outputs?.length,
              run: () => g.setPinned(node.id, Object.fromEntries((status?.outputs ?? []).map((o) => [o.port, o.hash]))),
            },
        'sep',
        ...subgraphItems(node.id, !!node.data.subgraph, node.data.subgraph?.component === undefined, !!node.data.subgraph?.expanded),
        { label: 'Copy', keys: 'Mod+C', run: () => void g.copySelection() },
        { label: 'Duplicate', keys: 'Mod+D', run: () => g.duplicate([node.id]) },
        { label: 'Delete', keys: 'Delete', danger: true, run: () => g.deleteSelected(), testId: 'ctx-delete' },
        ...alignItems(g.nodes.filter((n) => n.selected).length),
      ]
    : [
        { label: 'Add node…', keys: 'Mod+K', run: () => useUi.getState().openPalette('', menu.flow) },
        { label: 'Paste', keys: 'Mod+V', run: () => g.paste(undefined, menu.flow), disabled: !g.clipboard },
        'sep',
        { label: 'Run all', keys: 'Mod+Enter', run: () => runGraph('all'), disabled: running },
        { label: 'Select all', keys: 'Mod+A', run: () => g.selectAll() },
        {
          label: 'Auto-layout',
          keys: 'Mod+Shift+L',
          run: () => {
            g.autoLayout();
            window.setTimeout(() => viewHooks.fitView(), 30);
          },
        },
        { label: 'Fit view', keys: 'Shift+1', run: () => viewHooks.fitView() },
      ];
  const x = Math.min(menu.x, window.innerWidth - 230);
  const y = Math.min(menu.y, window.innerHeight - items.length * 30 - 16);
  return (
    <>
      <div
        className="menu-backdrop"
        onMouseDown={() => useUi.getState().closeMenu()}
        onContextMenu={(e) => {
          e.preventDefault();
          useUi.getState().closeMenu();
        }}
      />
      <div className="ctx-menu" style={{ left: x, top: y }} role="menu" data-testid="context-menu">
        {items.map((it, i) =>
          it === 'sep' ? (
            <div key={i} className="ctx-sep" />
          ) : (
            <button
              key={i}
              role="menuitem"
              className={`ctx-item${it.danger ? ' danger' : ''}`}
              disabled={it.disabled}
              data-testid={it.testId}
              onClick={() => {
                useUi.getState().closeMenu();
                it.run();
              }}
            >
              <span>{it.label}</span>
              {it.keys ? <kbd>{keyLabel(it.keys)}</kbd> : null}
            </button>
          ),
        )}
      </div>
    </>
  );
}

/** Grouping into a subgraph, and for a subgraph node: open, expand, save to the library. */
function subgraphItems(id: string, isSubgraph: boolean, embedded: boolean, expanded: boolean): (Item | 'sep')[] {
  const g = useGraph.getState();
  const items: Item[] = [{ label: 'Group into subgraph', keys: 'Mod+G', run: groupSelection, testId: 'ctx-group' }];
  if (isSubgraph) {
    if (embedded) items.push({ label: 'Open subgraph', run: () => void g.enterSubgraph(id), testId: 'ctx-open-subgraph' });
    items.push({ label: expanded ? 'Collapse' : 'Expand', run: () => g.setSubgraphExpanded(id, !expanded) });
    if (embedded) items.push({ label: 'Save to library', run: () => void saveToLibrary(id), testId: 'ctx-save-component' });
  }
  return [...items, 'sep'];
}

/** Align and distribute, offered when the right-clicked node is part of a multi-selection. */
function alignItems(selected: number): (Item | 'sep')[] {
  if (selected < 2) return [];
  const g = useGraph.getState();
  return [
    'sep',
    { label: 'Align left edges', keys: 'Alt+Shift+L', run: () => g.alignSelected('left'), testId: 'ctx-align-left' },
    { label: 'Align top edges', keys: 'Alt+Shift+T', run: () => g.alignSelected('top') },
    { label: 'Distribute horizontally', keys: 'Alt+Shift+H', run: () => g.alignSelected('distribute-x'), disabled: selected < 3 },
    { label: 'Distribute vertically', keys: 'Alt+Shift+V', run: () => g.alignSelected('distribute-y'), disabled: selected < 3 },
  ];
}
