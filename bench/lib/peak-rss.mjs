// Preloaded into a measured child process with `node --import <this file> …`. On exit it writes the
// process's peak resident set size (VmHWM from /proc/self/status, and getrusage's maxRSS) and the CPU
// time of all its threads (user + system) as JSON to
// the file named by BENCH_RSS_OUT. `exit` handlers run on process.exit() too, which is how both the
// forge CLI and the DuckDB baseline end.
import { readFileSync, writeFileSync } from 'node:fs';

const out = process.env.BENCH_RSS_OUT;
if (out) {
  process.on('exit', () => {
    let hwmKiB = null;
    try {
      const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
      if (m) hwmKiB = Number(m[1]);
    } catch {
      // not Linux: maxRSS below still answers
    }
    const usage = process.resourceUsage();
    writeFileSync(
      out,
      JSON.stringify({ pid: process.pid, vmHwmBytes: hwmKiB === null ? null : hwmKiB * 1024, maxRssBytes: usage.maxRSS * 1024, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000 }),
    );
  });
}
