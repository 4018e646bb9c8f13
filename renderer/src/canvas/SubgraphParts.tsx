import { useShallow } from 'zustand/react/shallow';
import { useGraph } from '../store/app';
import { useLibrary } from '../store/library';
import { displayState, useRun } from '../store/run';
import type { SubgraphSpec } from '../store/subgraph';

/** The buttons in a subgraph node's title bar: open it for editing, show or hide its inner nodes. */
export function SubgraphHeadActions({ id, spec }: { id: string; spec: SubgraphSpec | undefined }) {
  const expanded = !!spec?.expanded;
  return (
    <span className="sg-actions nodrag">
      <button
        className="sg-btn"
        aria-expanded={expanded}
        aria-label={expanded ? `Collapse subgraph ${id}` : `Expand subgraph ${id}`}
        title={expanded ? 'Hide the inner nodes' : 'Show the inner nodes and their states'}
        onClick={(e) => {
          e.stopPropagation();
          useGraph.getState().setSubgraphExpanded(id, !expanded);
        }}
      >
        {expanded ? '▾' : '▸'}
      </button>
      {spec?.component === undefined ? (
        <button
          className="sg-btn"
          aria-label={`Open subgraph ${id}`}
          title="Open to edit its nodes (the breadcrumb above the canvas leads back)"
          onClick={(e) => {
            e.stopPropagation();
            useGraph.getState().enterSubgraph(id);
          }}
        >
          ⤢
        </button>
      ) : null}
    </span>
  );
}

/** What a subgraph holds: a one-line summary, and when expanded each inner node with its state. */
export function SubgraphBody({ fullId, spec }: { fullId: string; spec: SubgraphSpec | undefined }) {
  const component = useLibrary((s) => (spec?.component !== undefined ? s.components.get(spec.component) : undefined));
  const nodes = spec?.component !== undefined ? (component?.nodes ?? []) : (spec?.nodes ?? []);
  const states = useRun(useShallow((s) => nodes.map((n) => displayState(s.status[`${fullId}/${n.id}`], s.stale[`${fullId}/${n.id}`]))));
  return (
    <div className="sg-body">
      <div className="sg-summary">
        {spec?.component !== undefined ? (
          <span className="mono" title="A library component: edit its file to change every graph that uses it">
            {spec.component}
            {component ? '' : ' (not found in the library)'}
          </span>
        ) : (
          <span>
            {nodes.length} node{nodes.length === 1 ? '' : 's'} inside
          </span>
        )}
      </div>
      {spec?.expanded ? (
        <ul className="sg-inner" aria-label="Inner nodes">
          {nodes.map((n, i) => (
            <li key={n.id} className="sg-inner-row" data-testid={`inner-${fullId}/${n.id}`} data-state={states[i]}>
              <span className="mono">{n.label ?? n.id}</span>
              <span className={`pill pill-${states[i] ?? 'idle'}`}>{states[i] ?? 'idle'}</span>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** Where the canvas is inside nested subgraphs, with a way back to each outer level. */
export function SubgraphBreadcrumb() {
  const stack = useGraph((s) => s.stack);
  const name = useGraph((s) => s.meta.name);
  if (stack.length === 0) return null;
  // The opened subgraph's ports: what its unconnected inner ports are fed by, and what leaves it.
  const top = stack[stack.length - 1];
  const spec = top?.nodes.find((n) => n.id === top.subgraphId)?.data.subgraph;
  const ports = [
    ...Object.entries(spec?.inputs ?? {}).map(([k, p]) => `${k} → ${p.to.map((t) => `${t.node}.${t.port}`).join(', ')}`),
    ...Object.entries(spec?.outputs ?? {}).map(([k, p]) => `${p.from.node}.${p.from.port} → ${k}`),
  ];
  return (
    <nav className="sg-crumbs" aria-label="Subgraph breadcrumb" data-testid="subgraph-breadcrumb">
      <button className="btn small" onClick={() => useGraph.getState().exitSubgraph(Infinity)}>
        ← {name || 'Graph'}
      </button>
      {stack.map((f, i) => (
        <span key={f.subgraphId} className="sg-crumb">
          <span aria-hidden>›</span>
          {i < stack.length - 1 ? (
            <button className="btn small" onClick={() => useGraph.getState().exitSubgraph(stack.length - 1 - i)}>
              {f.title}
            </button>
          ) : (
            <strong aria-current="page">{f.title}</strong>
          )}
        </span>
      ))}
      {ports.length > 0 ? (
        <span className="sg-crumb-ports muted mono" title="The subgraph's ports: outer input → inner port, inner port → outer output">
          {ports.join(' · ')}
        </span>
      ) : null}
    </nav>
  );
}
