import { formatIp, formatIPv4, formatMac, parsePacket } from '../index';
import type { LinkMode } from '../index';

/** One packet, summarised like tcpdump does: the text, and the same as fields for --json. */
export interface PacketSummary {
  readonly text: string;
  readonly fields: Record<string, unknown>;
}

const ICMP4: Record<number, string> = {
  0: 'echo reply',
  3: 'destination unreachable',
  5: 'redirect',
  8: 'echo request',
  11: 'time exceeded',
};
const ICMP6: Record<number, string> = {
  1: 'destination unreachable',
  2: 'packet too big',
  3: 'time exceeded',
  128: 'echo request',
  129: 'echo reply',
  133: 'router solicitation',
  134: 'router advertisement',
  135: 'neighbor solicitation',
  136: 'neighbor advertisement',
};
const PROTO: Record<number, string> = { 6: 'TCP', 17: 'UDP', 1: 'ICMP', 58: 'ICMP6' };
const TCP_FLAGS: [number, string][] = [
  [0x02, 'S'],
  [0x01, 'F'],
  [0x04, 'R'],
  [0x08, 'P'],
  [0x20, 'U'],
  [0x10, '.'],
];

/** `hh:mm:ss.uuuuuu` in local time, as tcpdump prints it. */
export const clock = (ms: number): string => {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const us = Math.floor((ms % 1000) * 1000);
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(us, 6)}`;
};

/** Summarises a frame (never throws; a malformed one says why). */
export const describePacket = (frame: Uint8Array, mode: LinkMode): PacketSummary => {
  const fields: Record<string, unknown> = { length: frame.length };
  const parts: string[] = [];
  const p = parsePacket(frame, mode);
  if (p.kind === 'malformed') {
    if (mode === 'ethernet' && frame.length >= 12) {
      fields.src = formatMac(frame, 6);
      fields.dst = formatMac(frame, 0);
      parts.push(`${fields.src} > ${fields.dst},`);
    }
    fields.malformed = p.reason;
    parts.push(`malformed (${p.reason} at ${p.offset}), length ${frame.length}`);
    return { text: parts.join(' '), fields };
  }
  const eth = p.ethernet;
  if (eth) {
    fields.src = formatMac(eth.src);
    fields.dst = formatMac(eth.dst);
    fields.etherType = eth.etherType;
    parts.push(`${fields.src} > ${fields.dst},`);
    if (eth.tags.length > 0) {
      fields.vlan = eth.tags.map((t) => t.vid);
      for (const t of eth.tags) parts.push(`vlan ${t.vid}, p ${t.pcp},`);
    }
  }
  const net = p.network;
  const t = p.transport;
  if (!net) {
    const type = eth ? `ethertype 0x${eth.etherType.toString(16).padStart(4, '0')}` : 'unknown';
    parts.push(`${type}, length ${frame.length}`);
    return { text: parts.join(' '), fields };
  }
  if (net.kind === 'arp') {
    fields.proto = 'arp';
    const ip4 = net.plen === 4;
    const tpa = ip4 ? formatIPv4(net.tpa) : '?';
    const spa = ip4 ? formatIPv4(net.spa) : '?';
    fields.arp = { op: net.op, spa, tpa, sha: formatMac(net.sha) };
    if (net.op === 1) parts.push(`ARP, Request who-has ${tpa} tell ${spa},`);
    else if (net.op === 2) parts.push(`ARP, Reply ${spa} is-at ${formatMac(net.sha)},`);
    else parts.push(`ARP, op ${net.op},`);
    parts.push(`length ${frame.length}`);
    return { text: parts.join(' '), fields };
  }
  const src = formatIp(net.src);
  const dst = formatIp(net.dst);
  fields.srcIp = src;
  fields.dstIp = dst;
  fields.ipProto = net.protocol;
  const ipName = net.kind === 'ipv4' ? 'IP' : 'IP6';
  if (t?.kind === 'udp' || t?.kind === 'tcp') {
    fields.proto = t.kind;
    fields.srcPort = t.srcPort;
    fields.dstPort = t.dstPort;
    parts.push(`${ipName} ${src}.${t.srcPort} > ${dst}.${t.dstPort}:`);
    if (t.kind === 'udp') parts.push(`UDP, length ${t.length - 8}`);
    else {
      const flags = TCP_FLAGS.filter(([bit]) => t.flags & bit)
        .map(([, c]) => c)
        .join('');
      fields.tcpFlags = t.flags;
      parts.push(`Flags [${flags || 'none'}], seq ${t.seq}, length ${t.end - t.payloadOffset}`);
    }
  } else if (t?.kind === 'icmp' || t?.kind === 'icmpv6') {
    fields.proto = t.kind;
    fields.icmpType = t.type;
    fields.icmpCode = t.code;
    const name = (t.kind === 'icmp' ? ICMP4 : ICMP6)[t.type] ?? `type ${t.type}, code ${t.code}`;
    const echo = name.startsWith('echo') ? `, id ${t.identifier}, seq ${t.sequence}` : '';
    parts.push(
      `${ipName} ${src} > ${dst}: ${t.kind === 'icmp' ? 'ICMP' : 'ICMP6'} ${name}${echo}, length ${t.end - t.offset}`,
    );
  } else {
    const name = PROTO[net.protocol] ?? `proto ${net.protocol}`;
    fields.proto = name.toLowerCase();
    const frag = net.isFragment ? ` (frag offset ${net.fragmentOffset})` : '';
    parts.push(`${ipName} ${src} > ${dst}: ${name}${frag}, length ${net.end - net.payloadOffset}`);
  }
  return { text: parts.join(' '), fields };
};
