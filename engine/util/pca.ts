/**
 * The top two principal components of n rows of d values (row-major), by power iteration with
 * deflation: deterministic, and cheap for the few thousand rows a 2-D view shows. Returns each
 * row's two coordinates and the share of the variance those components explain.
 */
export function pca2(x: Float64Array, n: number, d: number): { coords: Float64Array; explained: number } {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) (mean[j] as number) += (x[i * d + j] as number) / n;
  const c = new Float64Array(n * d);
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = (x[i * d + j] as number) - (mean[j] as number);
      c[i * d + j] = v;
      total += v * v;
    }
  }
  const components: Float64Array[] = [];
  let captured = 0;
  for (let k = 0; k < 2; k++) {
    let v = new Float64Array(d).map((_, j) => Math.sin(j + 1 + k * 7.3));
    let lambda = 0;
    for (let it = 0; it < 100; it++) {
      // w = Cᵀ(C v), minus what earlier components already explain.
      const cv = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += (c[i * d + j] as number) * (v[j] as number);
        cv[i] = s;
      }
      const w = new Float64Array(d);
      for (let i = 0; i < n; i++) {
        const s = cv[i] as number;
        if (s !== 0) for (let j = 0; j < d; j++) (w[j] as number) += (c[i * d + j] as number) * s;
      }
      for (const u of components) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += (w[j] as number) * (u[j] as number);
        for (let j = 0; j < d; j++) (w[j] as number) -= dot * (u[j] as number);
      }
      const norm = Math.hypot(...w);
      if (norm === 0) break;
      lambda = norm;
      const next = w.map((val) => val / norm);
      let delta = 0;
      for (let j = 0; j < d; j++) delta += Math.abs((next[j] as number) - (v[j] as number));
      v = next;
      if (delta < 1e-9) break;
    }
    // Fix the sign, so the picture does not depend on the start vector.
    let big = 0;
    for (let j = 1; j < d; j++) if (Math.abs(v[j] as number) > Math.abs(v[big] as number)) big = j;
    if ((v[big] as number) < 0) v = v.map((val) => -val);
    components.push(v);
    captured += lambda;
  }
  const coords = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 2; k++) {
      const u = components[k] as Float64Array;
      let s = 0;
      for (let j = 0; j < d; j++) s += (c[i * d + j] as number) * (u[j] as number);
      coords[i * 2 + k] = s;
    }
  }
  return { coords, explained: total > 0 ? captured / total : 0 };
}
