/**
 * The one error class that crosses the native boundary (and that the control layer uses for
 * protocol failures), in the manner of Node's system errors: `code` names the cause, `errno` is
 * the positive errno when a syscall failed (0 otherwise) and `syscall` names it.
 *
 * @example
 * try { listen('/run/missing-dir/memif.sock') } catch (e) {
 *   if (e instanceof MemifError && e.code === 'ENOENT') ...
 * }
 */
export class MemifError extends Error {
  override readonly name = 'MemifError';

  constructor(
    message: string,
    readonly code: string,
    readonly errno = 0,
    readonly syscall = '',
  ) {
    super(message);
  }
}

export const isMemifError = (value: unknown): value is MemifError => value instanceof MemifError;
