import type { PeerCredentials } from '../../native-bridge/native';

/** The allow-lists of one interface (empty lists: anyone may connect). */
export interface PeerAllowList {
  readonly allowUids: readonly number[];
  readonly allowGids: readonly number[];
}

/** True when the interface checks who its peer is at all. */
export const restricts = (allow: PeerAllowList): boolean =>
  allow.allowUids.length > 0 || allow.allowGids.length > 0;

/**
 * Why `peer` may not connect, or null when it may: its uid or its primary gid must be listed.
 * The reason names the refused uid (it goes into a DISCONNECT, at most 95 bytes, and into the
 * `disconnected` state). `who` is `peer` on a server and `server` on a client.
 */
export const peerRefusal = (
  allow: PeerAllowList,
  peer: PeerCredentials | undefined,
  who: 'peer' | 'server',
): string | null => {
  if (!restricts(allow)) return null;
  if (!peer) return `${who} credentials unknown (SO_PEERCRED failed): not allowed`;
  if (allow.allowUids.includes(peer.uid) || allow.allowGids.includes(peer.gid)) return null;
  return `${who} uid ${peer.uid} not allowed (gid ${peer.gid}, pid ${peer.pid})`;
};
