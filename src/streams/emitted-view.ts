/** A packet view `rx()` made, with the buffer and byte offset it was made from. */
export interface MadeView {
  view: Uint8Array;
  buffer: ArrayBufferLike;
  offset: number;
}

const EMPTY: Uint8Array = new Uint8Array(0);
const NONE: MadeView = { view: EMPTY, buffer: EMPTY.buffer, offset: 0 };

/**
 * The packet view `rx()` is emitting now, so that `tx().next(view)` from inside the emission (a
 * per-packet reflector) knows its buffer and offset by identity instead of asking the view: its
 * `buffer` and `byteOffset` getters cost more than the rest of the append together
 * (docs/tuning.md, "Per-packet tx"). `current` is a fresh object per burst, so that storing each
 * new view in it is a store into a young object (a long-lived holder would take V8's write
 * barrier slow path for every packet), and it is reset after the burst, so it never keeps
 * receive memory alive.
 */
export const emittedView: { current: MadeView; wanted: boolean } = {
  current: NONE,
  // Recording costs a few ns a packet: only once some `tx()` observer has been handed out
  // (a receive-only application never pays it).
  wanted: false,
};

/** A holder for the views of one burst of `buffer`, made current. */
export const startEmitting = (buffer: ArrayBufferLike): MadeView => {
  const made: MadeView = { view: EMPTY, buffer, offset: 0 };
  emittedView.current = made;
  return made;
};

export const stopEmitting = (): void => {
  emittedView.current = NONE;
};
