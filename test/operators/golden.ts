/**
 * Hand-written frames for the operator specs, as commented hex (`#` starts a comment). The
 * checksums were computed independently (Python, RFC 1071) and are checked against ours.
 * Hosts: A = 02:00:00:00:00:01 / 10.0.0.1 / fd00::1, B = 02:00:00:00:00:02 / 10.0.0.2 / fd00::2.
 */

/** Bytes from commented hex. */
export const hex = (text: string): Uint8Array =>
  Uint8Array.from(
    (
      text
        .split('\n')
        .map((l) => l.replace(/#.*/, ''))
        .join('')
        .replace(/\s+/g, '')
        .match(/../g) ?? []
    ).map((h) => parseInt(h, 16)),
  );

export const MAC_A = '02:00:00:00:00:01';
export const MAC_B = '02:00:00:00:00:02';

/** ARP who-has 10.0.0.1 tell 10.0.0.2 (42 bytes, no padding). */
export const ARP_REQUEST = hex(`
  ffffffffffff 020000000002 0806  # eth: broadcast <- B, ARP
  0001 0800 06 04 0001            # htype Ethernet, ptype IPv4, hlen 6, plen 4, op request
  020000000002 0a000002           # sender B 10.0.0.2
  000000000000 0a000001           # target ? 10.0.0.1
`);

/** The reply A gives to {@link ARP_REQUEST}. */
export const ARP_REPLY = hex(`
  020000000002 020000000001 0806  # eth: B <- A, ARP
  0001 0800 06 04 0002            # op reply
  020000000001 0a000001           # sender A 10.0.0.1
  020000000002 0a000002           # target B 10.0.0.2
`);

/** ICMP echo request B -> A, id 0x1234 seq 1, "abcdefgh". IP checksum 0x0a91, ICMP 0x5435. */
export const ICMP_ECHO = hex(`
  020000000001 020000000002 0800  # eth: A <- B, IPv4
  45 00 0024 1c46 4000 40 01 0a91 # v4 ihl 5, len 36, id 0x1c46, DF, ttl 64, ICMP, checksum
  0a000002 0a000001               # 10.0.0.2 -> 10.0.0.1
  08 00 5435 1234 0001            # echo request, checksum 0x5435, id, seq
  6162636465666768                # "abcdefgh"
`);

/** Its reply (ttl 64): IP checksum 0x0a91 (addresses swapped, same sum), ICMP 0x5c35. */
export const ICMP_ECHO_REPLY = hex(`
  020000000002 020000000001 0800
  45 00 0024 1c46 4000 40 01 0a91
  0a000001 0a000002
  00 00 5c35 1234 0001            # echo reply
  6162636465666768
`);

/** ICMPv6 echo request fd00::2 -> fd00::1, id 0x1234 seq 1, "abcdefgh"; checksum 0xe1e5. */
export const ICMP6_ECHO = hex(`
  020000000001 020000000002 86dd  # eth: A <- B, IPv6
  60000000 0010 3a 40             # v6, payload 16, next ICMPv6, hop limit 64
  fd000000000000000000000000000002
  fd000000000000000000000000000001
  80 00 e1e5 1234 0001            # echo request
  6162636465666768
`);

/** Its reply: type 129, hop limit 64, checksum 0xe0e5. */
export const ICMP6_ECHO_REPLY = hex(`
  020000000002 020000000001 86dd
  60000000 0010 3a 40
  fd000000000000000000000000000001
  fd000000000000000000000000000002
  81 00 e0e5 1234 0001
  6162636465666768
`);

/** 802.1Q (vid 100, pcp 3) UDP 10.0.0.2:5353 -> 10.0.0.1:53, "hello"; UDP checksum 0x92e1. */
export const VLAN_UDP = hex(`
  020000000001 020000000002       # eth: A <- B
  8100 6064                       # 802.1Q, pcp 3, vid 100
  0800                            # IPv4
  45 00 0021 1c46 4000 40 11 0a84 # len 33, UDP, checksum 0x0a84
  0a000002 0a000001
  14e9 0035 000d 92e1             # 5353 -> 53, len 13, checksum
  68656c6c6f                      # "hello"
`);

/** First fragment (MF, offset 0, id 0x4242) of a 24-byte UDP datagram 1000 -> 2000. */
export const FRAGMENT_1 = hex(`
  020000000001 020000000002 0800
  45 00 0024 4242 2000 40 11 0485 # len 36, MF, UDP
  0a000002 0a000001
  03e8 07d0 0018 a7c3             # UDP header: length 24 (more than this fragment holds)
  0001020304050607
`);

/** Second and last fragment: offset 16 bytes (field 2), no UDP header. */
export const FRAGMENT_2 = hex(`
  020000000001 020000000002 0800
  45 00 001c 4242 0002 40 11 248b # len 28, offset 2 x 8
  0a000002 0a000001
  08090a0b0c0d0e0f
`);

/** IPv4 with 4 option bytes (NOP NOP NOP EOL), TCP SYN 40000 -> 80. */
export const TCP_OPTIONS = hex(`
  020000000001 020000000002 0800
  46 00 002c 1c46 4000 40 06 0783 # ihl 6 (24 bytes), len 44, TCP
  0a000002 0a000001
  01010100                        # options
  9c40 0050 00000001 00000000     # 40000 -> 80, seq 1, ack 0
  5002 ffff ff4e 0000             # data offset 5, SYN, window, checksum, urgent
`);

/**
 * QinQ (S-tag vid 10, C-tag vid 20) IPv6 2001:db8::2 -> ::1 with hop-by-hop, destination
 * options and an atomic fragment header, then UDP 4000 -> 4789 "wxyz" (checksum 0x9119).
 */
export const QINQ_IPV6_UDP = hex(`
  020000000001 020000000002
  88a8 000a 8100 0014 86dd        # S-tag 10, C-tag 20, IPv6
  60000000 0024 00 40             # payload 36, next hop-by-hop
  20010db8000000000000000000000002
  20010db8000000000000000000000001
  3c 00 0104 00000000             # hop-by-hop: next dest-opts, len 8, PadN
  2c 00 0104 00000000             # destination options: next fragment
  11 00 0000 00000007             # fragment: next UDP, offset 0, no MF, id 7
  0fa0 12b5 000c 9119             # UDP 4000 -> 4789, len 12
  7778797a                        # "wxyz"
`);

/** Neighbor Solicitation fd00::2 -> ff02::1:ff00:1 for fd00::1, with source link-layer B. */
export const NEIGHBOR_SOLICITATION = hex(`
  3333ff000001 020000000002 86dd  # solicited-node multicast MAC
  60000000 0020 3a ff             # payload 32, ICMPv6, hop limit 255
  fd000000000000000000000000000002
  ff0200000000000000000001ff000001
  87 00 7d97 00000000             # NS, checksum 0x7d97
  fd000000000000000000000000000001 # target
  01 01 020000000002              # source link-layer address B
`);

/** The Neighbor Advertisement A answers with (solicited, override, target link-layer A). */
export const NEIGHBOR_ADVERTISEMENT = hex(`
  020000000002 020000000001 86dd
  60000000 0020 3a ff
  fd000000000000000000000000000001
  fd000000000000000000000000000002
  88 00 1c9c 60000000             # NA, checksum 0x1c9c, flags S|O
  fd000000000000000000000000000001
  02 01 020000000001              # target link-layer address A
`);

/** The IPv4 header of RFC 1071-style textbook fame (Wikipedia), checksum 0xb861. */
export const TEXTBOOK_IPV4_HEADER = hex(`
  4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7
`);

/** The frame without Ethernet header (memif `ip` mode). */
export const ipOnly = (frame: Uint8Array, l3 = 14): Uint8Array => frame.slice(l3);
