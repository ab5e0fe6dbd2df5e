import { parseMac } from './mac';
import { parsePrefix, prefixContains, type IpPrefix } from './prefix';
import type { LinkMode } from './packet';

/** What a responder answers for, resolved from its options. */
export interface ResponderConfig {
  readonly mode: LinkMode;
  /** Our MAC (undefined in `ip` mode). */
  readonly mac: Uint8Array | undefined;
  readonly v4: readonly IpPrefix[];
  readonly v6: readonly IpPrefix[];
}

/** Resolves addresses and MAC; throws a `TypeError` on a bad one, or no MAC in Ethernet mode. */
export const responderConfig = (
  ip: string | readonly string[],
  mac: string | undefined,
  mode: LinkMode,
): ResponderConfig => {
  const prefixes = (typeof ip === 'string' ? [ip] : ip).map(parsePrefix);
  if (mode === 'ethernet' && mac === undefined)
    throw new TypeError('icmpResponder: `mac` is required in ethernet mode');
  return {
    mode,
    mac: mode === 'ethernet' && mac !== undefined ? parseMac(mac) : undefined,
    v4: prefixes.filter((p) => p.family === 4),
    v6: prefixes.filter((p) => p.family === 6),
  };
};

/** Whether the address view lies in one of the prefixes. */
export const owns = (prefixes: readonly IpPrefix[], addr: Uint8Array): boolean =>
  prefixes.some((p) => prefixContains(p, addr));
