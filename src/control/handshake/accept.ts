import { MEMIF_VERSION } from '../brands';
import type { MemifName, U16, U8, Version } from '../brands';
import type { ControlMessage, HelloMessage, InitMessage } from '../messages';
import { SERVER_LIMITS } from './config';

/**
 * The socket-level part of the server role: a new connection is greeted with HELLO and belongs
 * to no interface until its INIT names one (docs/protocol.md#server-checks, first three checks).
 */

export const helloMessage = (appName: MemifName): HelloMessage => ({
  type: 'hello',
  name: appName,
  minVersion: MEMIF_VERSION,
  maxVersion: MEMIF_VERSION,
  maxRegion: SERVER_LIMITS.maxRegion as U16,
  maxM2SRing: SERVER_LIMITS.maxRing as U16,
  maxS2MRing: SERVER_LIMITS.maxRing as U16,
  maxLog2RingSize: SERVER_LIMITS.maxLog2RingSize as U8,
});

/** What the socket knows of each server interface on it. */
export interface RouteTable {
  /** `undefined` when no server interface has this id on the socket. */
  lookup(id: number): { readonly busy: boolean } | undefined;
}

export type Route =
  | { readonly kind: 'bind'; readonly init: InitMessage }
  | { readonly kind: 'reject'; readonly reason: string };

const versionText = (v: Version | number): string => `0x${v.toString(16).padStart(4, '0')}`;

/** Decides where the first message of a connection goes. */
export const routeFirstMessage = (message: ControlMessage, table: RouteTable): Route => {
  if (message.type !== 'init')
    return {
      kind: 'reject',
      reason: `unexpected ${message.type.toUpperCase().replace('-', '_')} message, expected INIT`,
    };
  if (message.version !== MEMIF_VERSION)
    return {
      kind: 'reject',
      reason: `incompatible memif version ${versionText(message.version)}, expected ${versionText(MEMIF_VERSION)}`,
    };
  const target = table.lookup(message.id);
  if (!target) return { kind: 'reject', reason: `unmatched interface id ${message.id}` };
  if (target.busy) return { kind: 'reject', reason: 'already connected' };
  return { kind: 'bind', init: message };
};
