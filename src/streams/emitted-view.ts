const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * The packet view `rx()` is emitting now, with the buffer and byte offset it was made from, so
 * that `tx().next(view)` from inside the emission (a per-packet reflector) knows them by
 * identity instead of asking the view: its `buffer` and `byteOffset` getters cost more than the
 * rest of the append together (docs/tuning.md, "Per-packet tx"). Reset after each burst, so it
 * never keeps receive memory alive.
 */
export const emittedView = {
  view: EMPTY as Uint8Array,
  buffer: EMPTY.buffer as ArrayBufferLike,
  offset: 0,
};

export const forgetEmittedView = (): void => {
  emittedView.view = EMPTY;
  emittedView.buffer = EMPTY.buffer;
};
