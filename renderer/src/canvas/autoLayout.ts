import { elkLayout } from '../lib/layout';
import { useGraph } from '../store/app';
import { useCatalog } from '../store/catalog';
import { DEFAULT_NODE_SIZE } from '../store/graph';

/**
 * Auto-layout command: ELK layered left-to-right, wrapped into rows shaped like the canvas so the
 * graph stays readable at fit view. Lays out the selection when 2+ nodes are selected.
 */
export async function layoutGraph(viewport?: { width: number; height: number }): Promise<void> {
  const s = useGraph.getState();
  const selected = s.nodes.filter((n) => n.selected);
  const subset = selected.length > 1 ? selected : s.nodes;
  if (subset.length === 0) return;
  const types = useCatalog.getState().types;
  const pos = await elkLayout(
    subset.map((n) => {
      const info = types.get(n.data.type);
      return {
        id: n.id,
        width: n.measured?.width ?? DEFAULT_NODE_SIZE.width,
        height: n.measured?.height ?? DEFAULT_NODE_SIZE.height,
        inputs: info ? Object.keys(info.inputs) : [],
        outputs: info ? Object.keys(info.outputs) : [],
      };
    }),
    s.edges,
    { aspectRatio: viewport && viewport.height > 0 ? viewport.width / viewport.height : 1.6 },
  );
  useGraph.getState().autoLayout(pos);
}
