// The sending peer of bench/workers.ts, in its own process (so that its CPU time is not counted
// with the receiver's): a memif server that sends `count` frames of `size` bytes on queue 0,
// losslessly, each time a line arrives on stdin, and prints "sent" after each round.
import * as readline from 'node:readline';
import { memif } from '../src/index';

const [socket, count, size] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const eth = memif({ role: 'server', socket, rxQueues: 1, txQueues: 1, lossless: true });
const frame = new Uint8Array(size).fill(0xab);
const frames = function* (): Generator<Uint8Array> {
  for (let i = 0; i < count; i++) yield frame;
};
const lines = readline.createInterface({ input: process.stdin });
lines.on('line', () => {
  void eth.send(frames(), 0).then(() => process.stdout.write('sent\n'));
});
lines.on('close', () => void eth.close());
