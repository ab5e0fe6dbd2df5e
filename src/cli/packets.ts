import { internetChecksum, parseIPv4 } from '../index';

/** Frames the CLI builds itself: an ARP who-has and an ICMP echo request (Ethernet or raw IP). */

const BROADCAST = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

/** ARP who-has `target` tell `srcIp` (`srcMac`), to the broadcast address; 42 bytes. */
export const arpRequest = (
  srcMac: Uint8Array,
  srcIp: Uint8Array,
  target: Uint8Array,
): Uint8Array => {
  const f = new Uint8Array(42);
  const v = new DataView(f.buffer);
  f.set(BROADCAST, 0);
  f.set(srcMac, 6);
  v.setUint16(12, 0x0806);
  v.setUint16(14, 1); // Ethernet
  v.setUint16(16, 0x0800); // IPv4
  f[18] = 6;
  f[19] = 4;
  v.setUint16(20, 1); // request
  f.set(srcMac, 22);
  f.set(srcIp, 28);
  // tha stays zero
  f.set(target, 38);
  return f;
};

export interface EchoRequest {
  /** Absent in `ip` mode (the frame then starts with the IPv4 header). */
  readonly eth?: { readonly dst: Uint8Array; readonly src: Uint8Array };
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly id: number;
  readonly seq: number;
  /** Bytes after the 8-byte ICMP header. */
  readonly payload: number;
}

/** An ICMP echo request with right checksums (IPv4 TTL 64). */
export const echoRequest = (r: EchoRequest): Uint8Array => {
  const l2 = r.eth ? 14 : 0;
  const ipLen = 20 + 8 + r.payload;
  const f = new Uint8Array(l2 + ipLen);
  const v = new DataView(f.buffer);
  if (r.eth) {
    f.set(r.eth.dst, 0);
    f.set(r.eth.src, 6);
    v.setUint16(12, 0x0800);
  }
  const ip = l2;
  f[ip] = 0x45;
  v.setUint16(ip + 2, ipLen);
  v.setUint16(ip + 4, r.seq & 0xffff);
  v.setUint16(ip + 6, 0x4000); // don't fragment
  f[ip + 8] = 64;
  f[ip + 9] = 1;
  f.set(r.src, ip + 12);
  f.set(r.dst, ip + 16);
  v.setUint16(ip + 10, internetChecksum(f, ip, 20));
  const icmp = ip + 20;
  f[icmp] = 8;
  v.setUint16(icmp + 4, r.id);
  v.setUint16(icmp + 6, r.seq & 0xffff);
  for (let i = 0; i < r.payload; i++) f[icmp + 8 + i] = (i + 0x10) & 0xff;
  v.setUint16(icmp + 2, internetChecksum(f, icmp, 8 + r.payload));
  return f;
};

/** `a.b.c.d/len` or `a.b.c.d` → the address bytes; undefined when not IPv4. */
export const ipv4Of = (text: string): Uint8Array | undefined => {
  const [addr, len, extra] = text.split('/');
  if (extra !== undefined || (len !== undefined && !/^\d{1,2}$/.test(len))) return undefined;
  if (len !== undefined && Number(len) > 32) return undefined;
  try {
    return parseIPv4(addr);
  } catch {
    return undefined;
  }
};
