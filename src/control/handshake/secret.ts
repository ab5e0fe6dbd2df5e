import { timingSafeEqual } from 'node:crypto';

/** A secret is at most 23 bytes (24-byte field, NUL-terminated; see docs/protocol.md). */
const FIELD = 24;

const field = (secret: string): Buffer => {
  const out = Buffer.alloc(FIELD);
  out.write(secret.slice(0, FIELD), 'utf8');
  return out;
};

/**
 * Compares two secrets in time that does not depend on where they differ: both are laid out in
 * their fixed 24-byte field (zero-padded; a secret holds no NUL, so padding cannot make two
 * different secrets equal) and compared whole.
 */
export const secretsEqual = (a: string, b: string): boolean =>
  timingSafeEqual(field(a), field(b)) && Buffer.byteLength(a) === Buffer.byteLength(b);
