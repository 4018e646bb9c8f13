import { viewHooks } from '../commands';
import { categoryColor, kindColor } from '../lib/colors';
import { useGraph } from '../store/app';
import { freeSpot } from '../store/graph';
import { useLibrary } from '../store/library';
import { useUi } from '../store/ui';

/** The palette's Library section: the workspace's saved subgraphs (`components/*.forge.json`). */
export function LibraryList({ query }: { query: string }) {
  const components = useLibrary((s) => s.components);
  const q = query.trim().toLowerCase();
  const list = [...components.entries()].filter(([path, doc]) => !q || path.toLowerCase().includes(q) || (doc.name ?? '').toLowerCase().includes(q));
  if (list.length === 0) return null;
  const insert = (path: string) => {
    const g = useGraph.getState();
    const right = g.nodes.length ? Math.max(...g.nodes.map((n) => n.position.x + (n.measured?.width ?? 232))) + 80 : 0;
    const id = g.insertComponent(path, freeSpot(g.nodes, { x: right, y: 0 }));
    useUi.getState().toast({ kind: 'success', title: `Inserted ${id}`, detail: `uses ${path}` }, 2500);
    window.setTimeout(() => viewHooks.fitView(), 60);
  };
  return (
    <section className="palette-group" aria-label="Component library">
      <div className="palette-cat" role="heading" aria-level={3}>
        <span className="dot" style={{ background: categoryColor('Subgraphs') }} />
        Library
        <span className="muted small">{list.length}</span>
      </div>
      {list.map(([path, doc]) => {
        const name = doc.name ?? path.replace(/^.*\//, '').replace(/\.forge\.json$/, '');
        const kinds = [...new Set([...Object.values(doc.inputs ?? {}), ...Object.values(doc.outputs ?? {})].map((p) => p.kind))];
        return (
          <div
            key={path}
            className="palette-item"
            title={`${path}: ${doc.nodes.length} nodes.\n\nDouble-click or press Insert to add it to this graph.`}
            onDoubleClick={() => insert(path)}
            data-testid={`library-item-${name}`}
          >
            <span className="palette-bar" style={{ background: categoryColor('Subgraphs') }} />
            <div className="palette-text">
              <div className="palette-title">{name}</div>
              <div className="palette-type mono">{path}</div>
            </div>
            <div className="palette-kinds" aria-hidden>
              {kinds.map((k) => (
                <span key={k} className="kind-dot" style={{ background: kindColor(k) }} title={k} />
              ))}
            </div>
            <button className="btn small sg-insert" onClick={() => insert(path)} aria-label={`Insert ${name}`}>
              Insert
            </button>
          </div>
        );
      })}
    </section>
  );
}
