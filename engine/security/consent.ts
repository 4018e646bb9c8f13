import { createInterface } from 'node:readline/promises';
import { describeItem, UntrustedGraphError } from './trust.js';

/**
 * Asks on the terminal whether to trust a graph that needs it. Without a terminal (CI, pipes)
 * there is nobody to ask, so the answer is no and the caller must pass `--trust`.
 */
export async function askTrustOnTty(err: UntrustedGraphError): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return false;
  process.stderr.write('This graph needs your trust before it runs:\n');
  for (const item of err.assessment.needsTrust) process.stderr.write(`  - ${describeItem(item)}\n`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question('Trust it and run? Only trust graphs from people you trust. [y/N] ');
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
