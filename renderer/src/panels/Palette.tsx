import { useMemo, useState } from 'react';
import type { NodeTypeInfo } from '../api/types';
import { DRAG_MIME } from '../canvas/Canvas';
import { categoryColor, kindColor } from '../lib/colors';
import { groupByCategory, searchTypes, useCatalog } from '../store/catalog';
import { LibraryList } from './LibraryList';

/** Left sidebar: node types grouped by category, searchable, draggable onto the canvas. */
export function Palette({ onAdd }: { onAdd(info: NodeTypeInfo): void }) {
  const types = useCatalog((s) => s.types);
  const loaded = useCatalog((s) => s.loaded);
  const [query, setQuery] = useState('');
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const groups = useMemo(() => groupByCategory(searchTypes(types.values(), query)), [types, query]);

  return (
    <aside className="palette" data-testid="palette" aria-label="Node palette">
      <div className="side-head">
        <span>Nodes</span>
        <span className="muted small">{types.size}</span>
      </div>
      <div className="palette-search">
        <input type="search" placeholder="Search nodes…" value={query} onChange={(e) => setQuery(e.target.value)} aria-label="Search nodes" data-testid="palette-search" />
      </div>
      <div className="palette-list">
        {!loaded ? <div className="muted pad">Loading node types…</div> : null}
        {loaded && groups.length === 0 ? <div className="muted pad">No node matches “{query}”.</div> : null}
        <LibraryList query={query} />
        {groups.map(([cat, list]) => {
          const isCollapsed = collapsed.has(cat) && !query;
          return (
            <section key={cat} className="palette-group">
              <button
                className="palette-cat"
                onClick={() => {
                  const next = new Set(collapsed);
                  if (next.has(cat)) next.delete(cat);
                  else next.add(cat);
                  setCollapsed(next);
                }}
                aria-expanded={!isCollapsed}
              >
                <span className="chev">{isCollapsed ? '▸' : '▾'}</span>
                <span className="dot" style={{ background: categoryColor(cat) }} />
                {cat}
                <span className="muted small">{list.length}</span>
              </button>
              {isCollapsed
                ? null
                : list.map((t) => (
                    <div
                      key={t.type}
                      className="palette-item"
                      draggable
                      data-testid={`palette-item-${t.type}`}
                      title={`${t.description}\n\nDrag onto the canvas, or double-click to add.`}
                      onDragStart={(e) => {
                        e.dataTransfer.setData(DRAG_MIME, t.type);
                        e.dataTransfer.setData('text/plain', t.type);
                        e.dataTransfer.effectAllowed = 'copy';
                      }}
                      onDoubleClick={() => onAdd(t)}
                    >
                      <span className="palette-bar" style={{ background: categoryColor(t.category) }} />
                      <div className="palette-text">
                        <div className="palette-title">{t.title}</div>
                        <div className="palette-type mono">{t.type}</div>
                      </div>
                      <div className="palette-kinds" aria-hidden>
                        {[...new Set([...Object.values(t.inputs), ...Object.values(t.outputs)].map((p) => p.kind))].map((k) => (
                          <span key={k} className="kind-dot" style={{ background: kindColor(k) }} title={k} />
                        ))}
                      </div>
                    </div>
                  ))}
            </section>
          );
        })}
      </div>
    </aside>
  );
}
