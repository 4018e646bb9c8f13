import { categoryColor, kindColor } from '../lib/colors';
import { useGraph } from '../store/app';
import type { FlowNode } from '../store/graph';
import { useLibrary } from '../store/library';
import { saveToLibrary } from '../store/libraryActions';
import { subgraphPorts } from '../store/subgraph';

/** The inspector of a subgraph node: its ports and what they map to, and what can be done with it. */
export function SubgraphInspector({ node }: { node: FlowNode }) {
  const spec = node.data.subgraph;
  const components = useLibrary((s) => s.components);
  const ports = subgraphPorts(spec, components);
  const embedded = spec?.component === undefined;
  const g = useGraph.getState();
  const inner = embedded ? (spec?.nodes ?? []) : (components.get(spec?.component ?? '')?.nodes ?? []);
  return (
    <aside className="inspector" data-testid="inspector">
      <div className="insp-head" style={{ '--cat': categoryColor('Subgraphs') } as React.CSSProperties}>
        <div className="insp-title">{node.data.label || node.id}</div>
        <div className="muted small mono">
          {node.id} · subgraph{embedded ? '' : ` · ${spec?.component ?? ''}`}
        </div>
        <p className="insp-desc">
          {embedded
            ? `${inner.length} nodes grouped into one. The engine runs them as ${node.id}/…, cached exactly as before grouping.`
            : 'A library component: edit its file to change every graph that uses it.'}
        </p>
      </div>
      <div className="insp-body">
        <label className="field">
          <span className="field-label">Label</span>
          <input value={node.data.label ?? ''} onChange={(e) => g.setLabel(node.id, e.target.value)} aria-label="Subgraph label" />
        </label>
        <div className="insp-actions">
          {embedded ? (
            <>
              <button className="btn" onClick={() => g.enterSubgraph(node.id)}>
                Open subgraph
              </button>
              <button className="btn" onClick={() => void saveToLibrary(node.id)} title="Write it to components/ in the workspace, to insert into other graphs">
                Save to library
              </button>
            </>
          ) : null}
          <button className="btn" onClick={() => g.setSubgraphExpanded(node.id, !spec?.expanded)}>
            {spec?.expanded ? 'Collapse' : 'Expand'}
          </button>
        </div>
        <h4 className="sg-ports-head">Inputs</h4>
        <ul className="sg-ports" aria-label="Subgraph inputs">
          {Object.entries(ports?.inputs ?? {}).map(([name, p]) => (
            <li key={name}>
              <span className="kind-dot" style={{ background: kindColor(p.kind) }} title={p.kind} /> <strong>{name}</strong>{' '}
              <span className="muted">→ {p.to.map((t) => `${t.node}.${t.port}`).join(', ')}</span>
            </li>
          ))}
        </ul>
        <h4 className="sg-ports-head">Outputs</h4>
        <ul className="sg-ports" aria-label="Subgraph outputs">
          {Object.entries(ports?.outputs ?? {}).map(([name, p]) => (
            <li key={name}>
              <span className="kind-dot" style={{ background: kindColor(p.kind) }} title={p.kind} /> <strong>{name}</strong>{' '}
              <span className="muted">
                ← {p.from.node}.{p.from.port}
              </span>
            </li>
          ))}
        </ul>
      </div>
    </aside>
  );
}
