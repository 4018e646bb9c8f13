// Each executed node's memory peak, for the question users of corpus tools ask most ("which step
// ran out of memory?"). Nodes run in this process (DuckDB, ONNX Runtime and worker threads
// included), so its resident set while a node runs is what that node may claim.

/** How often the resident set is sampled while any node runs: cheap (one read of /proc), fine enough for stages of seconds. */
const SAMPLE_MS = 200;

const watchers = new Set<{ peak: number }>();
let timer: NodeJS.Timeout | undefined;

function sample(): void {
  const rss = process.memoryUsage.rss();
  for (const w of watchers) if (rss > w.peak) w.peak = rss;
}

/**
 * Starts watching this process's resident set; the returned stop gives the largest value seen
 * until then. Nodes running at the same time share the process, so each sees the others' memory too.
 */
export function watchPeakRss(): () => number {
  const w = { peak: process.memoryUsage.rss() };
  watchers.add(w);
  if (!timer) {
    timer = setInterval(sample, SAMPLE_MS);
    // Sampling must never keep a finished CLI alive.
    timer.unref();
  }
  return () => {
    sample();
    watchers.delete(w);
    if (watchers.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
    return w.peak;
  };
}
