/**
 * Packet operators: zero-copy parsing, BPF-like filters, in-place rewrites and checksums, an
 * ICMP / ARP / ND responder, burst and rate helpers, pcap files.
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
export { parseTransport, IP_PROTO } from './parse-transport';
export { parsePacket, parseNetwork, ETHERTYPE } from './parse-packet';
export { parse } from './parse';
export type { ParseOptions } from './parse';
export { MalformedCounter } from './malformed-counter';
export type { Sink } from './sink';

// Addresses
export { parseMac, formatMac } from './mac';
export { parseIPv4, parseIPv6, parseIp, formatIPv4, formatIPv6, formatIp } from './ip-address';
export { parsePrefix, prefixContains } from './prefix';
export type { IpPrefix } from './prefix';

// Filters
export { and, or, not, etherType, vlan } from './predicates';
export type { PacketPredicate, EtherTypeName } from './predicates';
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

// Responder
export { icmpResponder, icmpReplier } from './icmp-responder';
export type { IcmpResponderOptions } from './icmp-responder';

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
