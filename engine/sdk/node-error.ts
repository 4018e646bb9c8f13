import { formatLocation, type ErrorLocation } from '../graph/errors.js';

/**
 * An error a node raises about its input: it names the file and the line or field, and the engine
 * adds the node. Anything else thrown from a node is reported as an internal error of that node.
 */
export class NodeError extends Error {
  readonly location: ErrorLocation;
  constructor(message: string, location: ErrorLocation = {}) {
    super(message);
    this.name = 'NodeError';
    this.location = location;
  }

  override toString(): string {
    const where = formatLocation(this.location);
    return where ? `[${where}] ${this.message}` : this.message;
  }
}

/** Raised inside a node when its AbortSignal fired; never reported as a failure. */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new CancelledError();
}
