import * as t from 'io-ts';
import { types } from 'node:util';

/** Why bytes (or a value) are not a memif control message: one readable line, and the detail. */
export interface DecodeError {
  readonly message: string;
  readonly errors: t.Errors;
}

/** What a value is, for messages: `a string`, `null`, `an ArrayBuffer`, `a 100-byte Buffer`. */
export const describeValue = (u: unknown): string => {
  if (u === null || u === undefined) return String(u);
  if (typeof u === 'string')
    return u.length > 40 ? `a ${u.length}-character string` : JSON.stringify(u);
  if (typeof u === 'number' || typeof u === 'boolean') return String(u);
  if (typeof u === 'bigint') return `${u}n`;
  if (typeof u !== 'object') return `a ${typeof u}`;
  if (types.isProxy(u)) return 'a Proxy'; // never ask a Proxy: its traps may lie or throw
  try {
    const name: unknown = Object.getPrototypeOf(u)?.constructor?.name;
    if (typeof name !== 'string' || name === '' || name === 'Object') return 'an object';
    const size = ArrayBuffer.isView(u) ? `${u.byteLength}-byte ` : '';
    // "a Uint8Array", "an ArrayBuffer", "a 100-byte Buffer"
    return `${size === '' && /^[AEIO]/.test(name) ? 'an' : 'a'} ${size}${name}`;
  } catch {
    return 'an object'; // a getter that throws: describing must not throw
  }
};

/** Errors without a message come from the brands (encoder guard); name the path and the brand. */
const fallback = (error: t.ValidationError): string => {
  const [root, ...rest] = error.context;
  const path = [root?.type.name, ...rest.map((entry) => entry.key)].filter(Boolean).join('.');
  const expected = error.context[error.context.length - 1]?.type.name ?? 'value';
  return `${path}: ${describeValue(error.value)} is not a valid ${expected}`;
};

/** One line: each error's message (or a path-and-brand fallback), duplicates dropped. */
export const formatErrors = (errors: t.Errors): string =>
  [...new Set(errors.map((error) => error.message ?? fallback(error)))].join('; ');

export const toDecodeError = (errors: t.Errors): DecodeError => ({
  message: formatErrors(errors),
  errors,
});
