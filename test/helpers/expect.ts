import { expect } from 'chai';
import { MemifError } from '../../src/native-bridge';
import { pollUntil } from './deadline';

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

/** Polls `condition` every 2 ms; rejects naming `what` after `ms` (stretched, see deadline.ts). */
export const until = (condition: () => boolean, what: string, ms = 5000): Promise<void> =>
  pollUntil(condition, ms, (waited) => `timed out after ${waited} ms waiting for ${what}`);
