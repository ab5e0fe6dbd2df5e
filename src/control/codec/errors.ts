import * as t from 'io-ts';

/** Why bytes (or a value) are not a memif control message: one readable line, and the detail. */
export interface DecodeError {
  readonly message: string;
  readonly errors: t.Errors;
}

/** What a value is, for messages: `a string`, `null`, `an ArrayBuffer`, `a 100-byte Buffer`. */
export const describeValue = (u: unknown): string => {
  if (u === null || u === undefined) return String(u);
  if (typeof u === 'string') return JSON.stringify(u);
  if (typeof u === 'number' || typeof u === 'boolean') return String(u);
  if (typeof u === 'bigint') return `${u}n`;
  if (typeof u !== 'object') return `a ${typeof u}`;
  const name = Object.getPrototypeOf(u)?.constructor?.name;
  const length = u instanceof Uint8Array ? `${u.length}-byte ` : '';
  if (typeof name !== 'string' || name === '' || name === 'Object') return 'an object';
  return `${/^[AEIOU]/.test(name) && length === '' ? 'an' : 'a'} ${length}${name}`;
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
