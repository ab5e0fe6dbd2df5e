/**
 * Swaps the destination and source MAC addresses in place and returns the frame (frames under
 * 12 bytes are returned untouched).
 * @example
 * iface.rx().pipe(map(swapMacs)).subscribe(iface.tx()); // a reflector
 */
export const swapMacs = (frame: Uint8Array): Uint8Array => {
  if (frame.length < 12) return frame;
  for (let i = 0; i < 6; i++) {
    const t = frame[i];
    frame[i] = frame[i + 6];
    frame[i + 6] = t;
  }
  return frame;
};
