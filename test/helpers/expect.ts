import { expect } from 'chai';
import { MemifError } from '../../src/native-bridge';
import { deadline } from './deadline';

/** Runs `run`, expects it to throw a MemifError with this code and errno, and returns it. */
export const expectMemifError = (
  run: () => unknown,
  code: string,
  errnoValue: number,
): MemifError => {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${code}`).to.be.instanceOf(MemifError);
  const error = caught as MemifError;
  expect(error.code).to.equal(code);
  expect(error.errno).to.equal(errnoValue);
  return error;
};

/** Polls `condition` every 2 ms; rejects naming `what` after `ms`. */
export const until = async (condition: () => boolean, what: string, ms = 3000): Promise<void> => {
  const end = Date.now() + deadline(ms);
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
};
