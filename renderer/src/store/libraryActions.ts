/** User actions on subgraphs that talk to the engine: the library (save, list, insert) and grouping. */
import { GRAPH_FORMAT, GRAPH_VERSION } from '../../../engine/contract/graph-format';
import { api, reportError, useGraph } from './app';
import { useLibrary } from './library';
import { componentDocument, componentPath } from './subgraph';
import { useUi } from './ui';

export function refreshLibrary(): Promise<void> {
  return useLibrary
    .getState()
    .refresh(api)
    .catch((err: unknown) => reportError(err, 'Cannot read the component library'));
}

/** Groups the selection into a subgraph node, or says why nothing happened. */
export function groupSelection(): void {
  const id = useGraph.getState().groupSelection();
  if (!id) {
    useUi.getState().toast({ kind: 'info', title: 'Select the nodes to group first' }, 3000);
    return;
  }
  useUi.getState().toast({ kind: 'success', title: `Grouped into ${id}`, detail: 'Double-click it to open; its ports are the edges the grouping cut.' }, 3500);
}

/** Writes an embedded subgraph to `components/<name>.forge.json`, where any graph of the workspace can use it. */
export async function saveToLibrary(nodeId: string): Promise<string | null> {
  const g = useGraph.getState();
  const node = g.nodes.find((n) => n.id === nodeId);
  const spec = node?.data.subgraph;
  if (!node || !spec || spec.component !== undefined) return null;
  const name = node.data.label || node.id;
  const path = componentPath(name);
  try {
    const res = await api.saveGraph(path, componentDocument(spec, name, GRAPH_VERSION, GRAPH_FORMAT));
    await refreshLibrary();
    useUi.getState().toast({ kind: 'success', title: `Saved to the library: ${res.path}`, detail: 'Insert it into any graph from the Library section of the palette.' }, 4000);
    return res.path;
  } catch (err) {
    reportError(err, 'Cannot save to the library');
    return null;
  }
}
