import { Burst } from '../../src/streams/burst';

/** Small packet builders for the property tests (checksums left zero unless stated). */

export const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

const be16 = (v: number): number[] => [(v >>> 8) & 0xff, v & 0xff];

/** An Ethernet header A <- B with the EtherType. */
export const ethernet = (etherType: number): Uint8Array =>
  Uint8Array.of(2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, ...be16(etherType));

export interface Ipv4Fields {
  src: Uint8Array;
  dst: Uint8Array;
  protocol: number;
  ttl?: number;
  id?: number;
  tos?: number;
  options?: Uint8Array;
}

/** An IPv4 header for `payloadLength` bytes of payload (checksum zero). */
export const ipv4Header = (f: Ipv4Fields, payloadLength: number): Uint8Array => {
  const opts = f.options ?? new Uint8Array(0);
  const hl = 20 + opts.length;
  return concat(
    Uint8Array.of(
      0x40 | (hl / 4),
      f.tos ?? 0,
      ...be16(hl + payloadLength),
      ...be16(f.id ?? 0),
      0x40,
      0,
      f.ttl ?? 64,
      f.protocol,
      0,
      0,
    ),
    f.src,
    f.dst,
    opts,
  );
};

/** An IPv6 header for `payloadLength` bytes (no extension headers). */
export const ipv6Header = (
  src: Uint8Array,
  dst: Uint8Array,
  next: number,
  payloadLength: number,
  hopLimit = 64,
): Uint8Array =>
  concat(Uint8Array.of(0x60, 0, 0, 0, ...be16(payloadLength), next, hopLimit), src, dst);

/** A UDP datagram (checksum zero). */
export const udp = (srcPort: number, dstPort: number, data: Uint8Array): Uint8Array =>
  concat(Uint8Array.of(...be16(srcPort), ...be16(dstPort), ...be16(8 + data.length), 0, 0), data);

/** An ICMP / ICMPv6 message (checksum zero). */
export const icmp = (type: number, code: number, rest: number, data: Uint8Array): Uint8Array =>
  concat(Uint8Array.of(type, code, 0, 0, ...be16(rest >>> 16), ...be16(rest & 0xffff)), data);

/** A burst of the given packets laid out in one slab. */
export const burstOf = (...packets: number[][]): Burst => {
  const data = Uint8Array.from(packets.flat());
  const offsets = new Uint32Array(packets.length);
  const lengths = Uint32Array.from(packets, (p) => p.length);
  for (let i = 1; i < packets.length; i++) offsets[i] = offsets[i - 1] + lengths[i - 1];
  return new Burst(0, packets.length, data, offsets, lengths);
};
