/** Below this zoom the canvas shows the semantic-zoom overlay (lod-far). */
export const FAR_ZOOM = 0.5;

export interface PlacedNode {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Whether a big graph should keep every node mounted instead of only those in view. Zoomed far
 * out with (nearly) the whole graph in view, culling only costs: each pan or zoom step mounts and
 * unmounts the nodes crossing the view's border. Switching on mounts the off-screen nodes at once
 * (~1 ms each), so it needs ≥ 90 % in view; once on it stays on down to 50 % (hysteresis, so a
 * small pan does not flip it back and forth).
 * `transform` is React Flow's [x, y, zoom]; the view is `width` × `height` screen pixels.
 */
export function shouldKeepAllMounted(nodes: Iterable<PlacedNode>, transform: readonly [number, number, number], width: number, height: number, on: boolean): boolean {
  const [tx, ty, k] = transform;
  if (k >= FAR_ZOOM) return false;
  const x0 = -tx / k;
  const y0 = -ty / k;
  const x1 = x0 + width / k;
  const y1 = y0 + height / k;
  let total = 0;
  let inView = 0;
  for (const n of nodes) {
    total++;
    if (n.x < x1 && n.x + n.width > x0 && n.y < y1 && n.y + n.height > y0) inView++;
  }
  return total > 0 && inView >= total * (on ? 0.5 : 0.9);
}
