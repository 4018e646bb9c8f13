import { useEffect, useMemo, useRef, useState } from 'react';
import type { NodeTypeInfo } from '../api/types';
import { clearPendingConnection, pendingConnection } from '../canvas/Canvas';
import { COMMANDS, keyLabel, runCommand, type Command } from '../commands';
import { categoryColor } from '../lib/colors';
import { useGraph } from '../store/app';
import { searchTypes, useCatalog } from '../store/catalog';
import { useUi } from '../store/ui';

type Item = { kind: 'node'; info: NodeTypeInfo } | { kind: 'command'; cmd: Command };

/**
 * Quick-add: opens on Ctrl+K or when typing on the canvas. Lists node types first (Enter adds one
 * at the pointer, or connected to a dangling connection), then matching commands.
 */
export function CommandPalette({ addAt }: { addAt(info: NodeTypeInfo, at: { x: number; y: number } | null): string | null }) {
  const { open, query, at } = useUi((s) => s.palette);
  const types = useCatalog((s) => s.types);
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);

  const items = useMemo<Item[]>(() => {
    const q = query.trim();
    let nodes = searchTypes(types.values(), q.startsWith('>') ? '\u0000' : q);
    const pc = pendingConnection;
    if (pc) {
      // Only node types that can take (or give) the dangling connection's kind.
      const g = useGraph.getState();
      const node = g.nodes.find((n) => n.id === pc.nodeId);
      const info = node ? types.get(node.data.type) : undefined;
      const kind = pc.handleType === 'source' ? info?.outputs[pc.handleId]?.kind : info?.inputs[pc.handleId]?.kind;
      if (kind) nodes = nodes.filter((t) => Object.values(pc.handleType === 'source' ? t.inputs : t.outputs).some((p) => p.kind === kind));
    }
    const cq = q.replace(/^>/, '').trim().toLowerCase();
    const cmds = pc ? [] : COMMANDS.filter((c) => c.id !== 'edit.addNode' && (cq === '' ? q.startsWith('>') : c.title.toLowerCase().includes(cq) || c.id.includes(cq)));
    return [...nodes.map((info) => ({ kind: 'node' as const, info })), ...cmds.map((cmd) => ({ kind: 'command' as const, cmd }))].slice(0, 60);
  }, [query, types]);

  useEffect(() => {
    setActive(0);
  }, [query, open]);
  useEffect(() => {
    if (open) window.setTimeout(() => input.current?.focus(), 0);
    else clearPendingConnection();
  }, [open]);

  if (!open) return null;
  const close = () => useUi.getState().closePalette();
  const choose = (item: Item | undefined) => {
    if (!item) return;
    close();
    if (item.kind === 'command') {
      runCommand(item.cmd.id);
      return;
    }
    const pc = pendingConnection;
    const id = addAt(item.info, at);
    if (pc && id) {
      const g = useGraph.getState();
      const ports = pc.handleType === 'source' ? item.info.inputs : item.info.outputs;
      const srcInfo = types.get(g.nodes.find((n) => n.id === pc.nodeId)?.data.type ?? '');
      const kind = pc.handleType === 'source' ? srcInfo?.outputs[pc.handleId]?.kind : srcInfo?.inputs[pc.handleId]?.kind;
      const port = Object.entries(ports).find(([, p]) => p.kind === kind)?.[0];
      if (port) {
        const res =
          pc.handleType === 'source'
            ? g.connect({ source: pc.nodeId, sourceHandle: pc.handleId, target: id, targetHandle: port })
            : g.connect({ source: id, sourceHandle: port, target: pc.nodeId, targetHandle: pc.handleId });
        if (!res.ok) useUi.getState().toast({ kind: 'error', title: 'Connection refused', detail: res.reason });
      }
    }
    clearPendingConnection();
  };

  return (
    <div className="overlay" onMouseDown={close} data-testid="command-palette">
      <div className="cmdk" onMouseDown={(e) => e.stopPropagation()} role="dialog" aria-label="Add node or run a command">
        <input
          ref={input}
          className="cmdk-input"
          placeholder={pendingConnection ? 'Add a node connected to this port…' : 'Add a node… (type > for commands)'}
          value={query}
          onChange={(e) => useUi.getState().setPaletteQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') close();
            else if (e.key === 'ArrowDown') {
              e.preventDefault();
              setActive((a) => Math.min(items.length - 1, a + 1));
            } else if (e.key === 'ArrowUp') {
              e.preventDefault();
              setActive((a) => Math.max(0, a - 1));
            } else if (e.key === 'Enter') {
              e.preventDefault();
              choose(items[active]);
            }
          }}
          data-testid="command-input"
        />
        <div className="cmdk-list" role="listbox">
          {items.length === 0 ? <div className="muted pad">Nothing matches.</div> : null}
          {items.map((it, i) => (
            <div
              key={it.kind === 'node' ? `n:${it.info.type}` : `c:${it.cmd.id}`}
              className={`cmdk-item${i === active ? ' active' : ''}`}
              role="option"
              aria-selected={i === active}
              onMouseEnter={() => setActive(i)}
              onClick={() => choose(it)}
            >
              {it.kind === 'node' ? (
                <>
                  <span className="dot" style={{ background: categoryColor(it.info.category) }} />
                  <span className="cmdk-title">{it.info.title}</span>
                  <span className="muted small mono">{it.info.type}</span>
                  <span className="cmdk-right muted small">{it.info.category}</span>
                </>
              ) : (
                <>
                  <span className="cmdk-glyph">›</span>
                  <span className="cmdk-title">{it.cmd.title}</span>
                  <span className="muted small">{it.cmd.group}</span>
                  {it.cmd.keys ? <kbd className="cmdk-right">{keyLabel(it.cmd.keys)}</kbd> : null}
                </>
              )}
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}
