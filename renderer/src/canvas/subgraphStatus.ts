import { useMemo } from 'react';
import type { NodeTypeInfo } from '../api/types';
import { useGraph } from '../store/app';
import { useCatalog } from '../store/catalog';
import { useLibrary } from '../store/library';
import { displayState, useRun, type NodeStatus } from '../store/run';
import { aggregateState, isInside, subgraphInfo, subgraphPorts, SUBGRAPH_TYPE, type SubgraphSpec } from '../store/subgraph';

interface NodeLike {
  id: string;
  data: { type: string; subgraph?: SubgraphSpec };
}

/** A node's type facts: the catalog's, or for a subgraph node its own ports (or its component's). */
export function useNodeInfo(node: NodeLike | undefined): NodeTypeInfo | undefined {
  const catalog = useCatalog((s) => (node && node.data.type !== SUBGRAPH_TYPE ? s.types.get(node.data.type) : undefined));
  const components = useLibrary((s) => s.components);
  const spec = node?.data.subgraph;
  const isSub = node?.data.type === SUBGRAPH_TYPE;
  return useMemo(() => (isSub ? subgraphInfo(spec, components) : catalog), [isSub, spec, components, catalog]);
}

/**
 * The run status a node shows. Run events and plans name nodes by full id (`prep/filter` inside
 * subgraph prep), so the open level's prefix is added; a subgraph node sums up its inner nodes,
 * and its output ports show the outputs of the inner ports they expose.
 */
export function useNodeStatus(node: NodeLike | undefined): { status: NodeStatus | undefined; stale: string | undefined; fullId: string } {
  const scope = useGraph((s) => s.scope);
  const fullId = node ? scope + node.id : '';
  const isSub = node?.data.type === SUBGRAPH_TYPE;
  const own = useRun((s) => (node && !isSub ? s.status[fullId] : undefined));
  const ownStale = useRun((s) => (node && !isSub ? s.stale[fullId] : undefined));
  const all = useRun((s) => (isSub ? s.status : null));
  const allStale = useRun((s) => (isSub ? s.stale : null));
  const components = useLibrary((s) => s.components);
  const spec = node?.data.subgraph;
  const sub = useMemo(() => {
    if (!isSub || !all || !allStale) return undefined;
    const ids = new Set([...Object.keys(all), ...Object.keys(allStale)].filter((k) => isInside(k, fullId)));
    if (ids.size === 0) return undefined;
    const state = aggregateState([...ids].map((k) => displayState(all[k], allStale[k])));
    const ports = subgraphPorts(spec, components);
    const outputs = Object.entries(ports?.outputs ?? {}).flatMap(([name, o]) => {
      const inner = all[`${fullId}/${o.from.node}`]?.outputs?.find((x) => x.port === o.from.port);
      return inner ? [{ ...inner, port: name }] : [];
    });
    const failed = [...ids].find((k) => all[k]?.state === 'failed');
    const staleOne = [...ids].find((k) => allStale[k]);
    const status: NodeStatus = { state, outputs, ...(failed ? { error: `${failed.slice(fullId.length + 1)}: ${all[failed]?.error ?? 'failed'}` } : {}) };
    return { status, stale: state === 'stale' && staleOne ? `${staleOne.slice(fullId.length + 1)}: ${allStale[staleOne]}` : undefined };
  }, [isSub, all, allStale, fullId, spec, components]);
  return isSub ? { status: sub?.status, stale: sub?.stale, fullId } : { status: own, stale: ownStale, fullId };
}
