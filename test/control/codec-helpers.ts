import * as E from 'fp-ts/Either';
import { inspect } from 'node:util';
import type * as t from 'io-ts';
import type { ControlMessage } from '../../src/control/messages';

/**
 * A 128-byte frame from a hand-written hex dump. Each line holds bytes and then `@N comment`,
 * where N is the offset the line starts at; N is checked, so a miscounted field fails loudly.
 * `00*19` repeats a byte. Everything after the last line is zero.
 */
export const hex = (dump: string): Uint8Array => {
  const bytes: number[] = [];
  for (const line of dump.split('\n')) {
    const at = line.indexOf('@');
    if (at >= 0) {
      const offset = Number(/^@(\d+)/.exec(line.slice(at))?.[1]);
      if (offset !== bytes.length) {
        throw new Error(`hex: "${line.trim()}" starts at ${bytes.length}, not ${offset}`);
      }
    }
    const data = (at >= 0 ? line.slice(0, at) : line).trim();
    for (const token of data.split(/\s+/).filter(Boolean)) {
      const [byte, count = '1'] = token.split('*');
      if (!/^[0-9a-f]{2}$/i.test(byte) || !/^\d+$/.test(count)) throw new Error(`hex: "${token}"`);
      for (let i = 0; i < Number(count); i++) bytes.push(parseInt(byte, 16));
    }
  }
  if (bytes.length > 128) throw new Error(`hex: ${bytes.length} bytes, more than 128`);
  const frame = new Uint8Array(128);
  frame.set(bytes);
  return frame;
};

/** Hex text of bytes, for comparisons whose failures are readable. */
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** The message with its brands taken off: what a test can write as a literal. */
export type Plain<M> = {
  readonly [K in keyof M]: M[K] extends t.Branded<infer B, unknown> ? B : M[K];
};

/**
 * A literal as a typed message. The cast only skips the brands; tests that use it also check the
 * value with `ControlFrame.is`, so a literal the brands refuse cannot slip through.
 */
export const typed = <M extends ControlMessage>(plain: Plain<M>): M => plain as unknown as M;

/** The Left of an Either, or a failed test. */
export const leftOf = <L, R>(either: E.Either<L, R>): L => {
  if (E.isRight(either)) throw new Error(`expected a Left, got ${inspect(either.right)}`);
  return either.left;
};
