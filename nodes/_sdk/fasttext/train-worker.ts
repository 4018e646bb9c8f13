import { parentPort, workerData } from 'node:worker_threads';
import { sharedCounter, trainLoop, type KernelData, type KernelResult } from './kernel.js';

/** One Hogwild! thread: the arrays in `k` are views of SharedArrayBuffers shared with the other threads. */
export interface TrainWorkerData {
  k: KernelData;
  start: number;
  counter: BigInt64Array;
  /** [0]: go (set once every thread is loaded), [1]: stop (cancel). */
  flags: Int32Array;
  thread: number;
}

export type TrainWorkerMessage = { type: 'ready' } | { type: 'done'; result: KernelResult };

const data = workerData as TrainWorkerData;
parentPort?.postMessage({ type: 'ready' } satisfies TrainWorkerMessage);
// Start together, so that the clock measures training rather than thread start-up.
Atomics.wait(data.flags, 0, 0);
const result = trainLoop(data.k, data.start, sharedCounter(data.counter), () => Atomics.load(data.flags, 1) !== 0, data.thread);
parentPort?.postMessage({ type: 'done', result } satisfies TrainWorkerMessage);
