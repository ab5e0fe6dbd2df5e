/**
 * Packet operators: zero-copy parsing, BPF-like filters, in-place rewrites and checksums, an
 * ICMP / ARP / ND responder, burst and rate helpers, pcap files.
 *
 * Conventions:
 * - Predicates and burst operators read the frame's bytes through one {@link FrameScan} per
 *   frame (no parse result); {@link parse} emits {@link LazyPacket}s, whose layers are built on
 *   first access. Burst operators (`filterBurst`, `swapMacsBurst`, …) keep a pipeline
 *   burst-shaped from `rxBursts` to `txBursts`, with no object per packet.
 * - Parsing never copies and never throws: {@link parsePacket} returns a `ParsedPacket` (layers
 *   `ethernet`, `network`, `transport`, discriminated by `kind`, holding views of the frame) or a
 *   `MalformedPacket` (`reason`, `offset`). Operators that parse ({@link parse},
 *   {@link filterPackets}) drop malformed frames, handing them to an optional `onMalformed` sink
 *   (a callback, a `Subject`, a {@link MalformedCounter}).
 * - Frames that an operator does not emit go to a {@link Sink} option (`onMalformed`,
 *   `passThrough`, `onDrop`): only `next` is called; completion and errors stay on the stream.
 * - Rewrites work in place and return the frame, so they compose with `map`; the ones that
 *   lengthen a frame ({@link pushVlan}, {@link setVlan} on an untagged frame) return a new one,
 *   and {@link popVlan} returns a shorter view of the same memory.
 * - `mode` (`'ethernet'`, the default, or `'ip'`) says how frames start, as the memif mode does.
 * - Checksum helpers take a frame (with its mode) or a packet already parsed; `verify*` says
 *   `undefined` when there is nothing to verify.
 */

// Parsing
export type {
  LinkMode,
  VlanTag,
  EthernetLayer,
  ArpLayer,
  Ipv4Layer,
  Ipv6Extension,
  Ipv6Layer,
  NetworkLayer,
  UdpLayer,
  TcpLayer,
  IcmpLayer,
  OtherTransport,
  TransportLayer,
  ParsedPacket,
  MalformedReason,
  MalformedPacket,
  ParseResult,
} from './packet';
export { parseEthernet, VLAN_TPIDS } from './parse-ethernet';
export { parseArp } from './parse-arp';
export { parseIpv4 } from './parse-ipv4';
export { parseIpv6 } from './parse-ipv6';
export { parseTransport } from './parse-transport';
export type { TransportContext } from './parse-transport';
export { parsePacket, parseNetwork, ETHERTYPE } from './parse-packet';
export { parse } from './parse';
export type { ParseOptions } from './parse';
export { LazyPacket } from './lazy-packet';
export { FrameScan, scanFrame } from './frame-scan';
export { MalformedCounter } from './malformed-counter';
export type { Sink } from './sink';

// Addresses
export { parseMac, formatMac } from './mac';
export { parseIPv4, parseIPv6, parseIp, formatIPv4, formatIPv6, formatIp } from './ip-address';
export { parsePrefix, prefixContains } from './prefix';
export type { IpPrefix } from './prefix';

// Filters
export { and, or, not, etherType, vlan } from './predicates';
export type { PacketPredicate, EtherTypeName, ByteTest } from './predicates';
export {
  ipProto,
  net,
  srcNet,
  dstNet,
  port,
  srcPort,
  dstPort,
  IP_PROTOCOLS,
} from './ip-predicates';
export type { IpProtocolName } from './ip-predicates';
export { filterPackets } from './filter-packets';
export { filterBurst } from './filter-burst';
export type { FilterBurstOptions } from './filter-burst';

// Rewrites and checksums
export { swapMacs } from './swap-macs';
export { pushVlan, popVlan, setVlan, isTagged } from './vlan';
export type { VlanOptions } from './vlan';
export { decrementTtl } from './ttl';
export { decrementTtlOrDrop } from './decrement-ttl-or-drop';
export type { DecrementTtlOptions } from './decrement-ttl-or-drop';
export { internetChecksum, onesComplementSum, updateChecksum } from './checksum';
export { ipv4Checksum, verifyIpv4Checksum, setIpv4Checksum } from './ipv4-checksum';
export type { ChecksumTarget } from './ipv4-checksum';
export { l4Checksum, verifyL4Checksum, setL4Checksum } from './l4-checksum';

// Rewrites on whole bursts (in place, or into fresh memory when packets grow)
export { swapMacsBurst } from './swap-macs-burst';
export { pushVlanBurst } from './push-vlan-burst';
export { popVlanBurst } from './pop-vlan-burst';
export { setVlanBurst } from './set-vlan-burst';
export { decrementTtlBurst } from './decrement-ttl-burst';
export { setChecksumsBurst } from './set-checksums-burst';

// Responder
export { icmpResponder, icmpReplier } from './icmp-responder';
export type { IcmpResponderOptions } from './icmp-responder';
export { icmpResponderBurst } from './icmp-responder-burst';
export type { IcmpResponderBurstOptions } from './icmp-responder-burst';

// Bursts and rates
export { unburst } from './unburst';
export { burstBy } from './burst-by';
export { countPackets } from './count-packets';
export type { PacketCount } from './count-packets';
export { rate } from './rate';
export type { PacketRate } from './rate';

// Pcap
export { toPcap } from './to-pcap';
export type { ToPcapOptions } from './to-pcap';
export { fromPcap, fromPcapRecords } from './from-pcap';
export type { PcapRecord, FromPcapOptions } from './from-pcap';
export { PcapFormatError, LINKTYPE } from './pcap-format';
