/**
 * rx-memif/worker: what a worker thread started by `eth.worker(filename, { queues })` uses to
 * serve its queues, with the same RxJS shape as the main thread (see README "Queues in worker
 * threads"). The packet operators are those of the package root.
 *
 * @module
 */
export { attach } from './attach';
export type { MemifWorkerInterface } from './attach';
