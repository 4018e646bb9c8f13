/**
 * A failure of where a unit runs (a lost queue, a refusing worker), not of the node's code: the
 * scheduler shows its message as it is, instead of as an internal error of the node type.
 */
export class ExecutorError extends Error {
  override name = 'ExecutorError';
}
