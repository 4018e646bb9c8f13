// Named pipes the lanes of a deferred pass write their JSON Lines parts to (engine/sdk/fifo-drain.ts).
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { makePipes } from '../../engine/sdk/fifo-feed.js';

/**
 * A pipe per lane, reused part after part. They are made together, with one `mkfifo`, the first
 * time a lane needs one; a scan that restarts on its general path empties its folder, and the next
 * take then makes a fresh set.
 */
export class PartPipes {
  private free: string[] = [];
  private made = 0;

  constructor(private readonly dir: string) {}

  take(): string {
    let pipe = this.free.pop();
    if (pipe === undefined || !existsSync(pipe)) {
      const set = Array.from({ length: availableParallelism() }, (_, i) => join(this.dir, `out-${this.made}-${i}.pipe`));
      this.made++;
      makePipes(set);
      this.free = set;
      pipe = this.free.pop() as string;
    }
    return pipe;
  }

  give(pipe: string): void {
    this.free.push(pipe);
  }
}
