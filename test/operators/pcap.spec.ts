import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { firstValueFrom, from, lastValueFrom, Subject, take, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  fromPcap,
  icmpResponder,
  fromPcapRecords,
  PcapFormatError,
  toPcap,
  type PcapRecord,
} from '../../src/streams/operators';
import {
  ARP_REQUEST,
  ICMP6_ECHO,
  ICMP_ECHO,
  ipOnly,
  MAC_A,
  NEIGHBOR_SOLICITATION,
  QINQ_IPV6_UDP,
  VLAN_UDP,
} from './golden';

const FRAMES = [ARP_REQUEST, ICMP_ECHO, VLAN_UDP, ICMP6_ECHO, QINQ_IPV6_UDP];
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const openFds = (): number => fs.readdirSync('/proc/self/fd').length;
const hasTshark = ((): boolean => {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Frames of varied sizes (0 .. 1500 bytes), each filled from its index. */
const manyFrames = (n: number): Uint8Array[] =>
  Array.from({ length: n }, (_, i) => new Uint8Array((i * 37) % 1501).fill(i & 0xff));

/** A pcap file built by hand: header fields and records in the given byte order. */
const handMade = (le: boolean, magic: number, records: [number, number, number[]][]): Buffer => {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  const w32 = (b: Buffer, v: number, at: number): number =>
    le ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at);
  const w16 = (b: Buffer, v: number, at: number): number =>
    le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at);
  w32(h, magic, 0);
  w16(h, 2, 4);
  w16(h, 4, 6);
  w32(h, 65535, 16);
  w32(h, 1, 20);
  parts.push(h);
  for (const [sec, frac, data] of records) {
    const r = Buffer.alloc(16);
    w32(r, sec, 0);
    w32(r, frac, 4);
    w32(r, data.length, 8);
    w32(r, data.length + 4, 12);
    parts.push(r, Buffer.from(data));
  }
  return Buffer.concat(parts);
};

describe('operators: pcap files', () => {
  let dir: string;
  const file = (name: string): string => path.join(dir, name);
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rx-memif-pcap-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('toPcap passes packets through (marbles) and stamps them with its clock', async () => {
    const ts = new TestScheduler((a, e) => {
      expect(a).to.deep.equal(e);
    });
    const at = 1_700_000_000_000;
    ts.run(({ cold, expectObservable }) => {
      const src = cold('a-b 1000ms c|', { a: ARP_REQUEST, b: ICMP_ECHO, c: VLAN_UDP });
      const op = toPcap(file('marbles.pcap'), { now: () => at + ts.now() + 0.002 });
      expectObservable(src.pipe(op)).toBe('a-b 1000ms c|', {
        a: ARP_REQUEST,
        b: ICMP_ECHO,
        c: VLAN_UDP,
      });
    });
    const records = await lastValueFrom(fromPcapRecords(file('marbles.pcap')).pipe(toArray()));
    expect(records).to.deep.equal([
      {
        data: ARP_REQUEST,
        seconds: 1_700_000_000,
        nanoseconds: 2000,
        originalLength: 42,
        linkType: 1,
      },
      {
        data: ICMP_ECHO,
        seconds: 1_700_000_000,
        nanoseconds: 2_002_000,
        originalLength: 50,
        linkType: 1,
      },
      {
        data: VLAN_UDP,
        seconds: 1_700_000_001,
        nanoseconds: 3_002_000,
        originalLength: 51,
        linkType: 1,
      },
    ] satisfies PcapRecord[]);
  });

  it('writes a classic little-endian µs header, v2.4, snaplen 262144, link type 1 or 101', async () => {
    await lastValueFrom(from(FRAMES).pipe(toPcap(file('eth.pcap'))));
    await lastValueFrom(
      from(FRAMES.map((f) => ipOnly(f))).pipe(toPcap(file('raw.pcap'), { linkType: 'raw' })),
    );
    const eth = fs.readFileSync(file('eth.pcap'));
    expect(eth.subarray(0, 24).toString('hex')).to.equal(
      'd4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + '00000400' + '01000000',
    );
    expect(fs.readFileSync(file('raw.pcap')).readUInt32LE(20)).to.equal(101);
    expect(eth.length).to.equal(24 + FRAMES.reduce((n, f) => n + 16 + f.length, 0));
  });

  it('round-trips through fromPcap, also with reads splitting records', async () => {
    const frames = manyFrames(3000);
    await lastValueFrom(from(frames).pipe(toPcap(file('many.pcap'))));
    expect(await lastValueFrom(fromPcap(file('many.pcap')).pipe(toArray()))).to.deep.equal(frames);
    const small = fromPcap(file('many.pcap'), { chunkSize: 7 }).pipe(take(200), toArray());
    expect(await lastValueFrom(small)).to.deep.equal(frames.slice(0, 200));
    const raw = await lastValueFrom(fromPcapRecords(file('raw.pcap')).pipe(toArray()));
    expect(raw.map((r) => r.data)).to.deep.equal(FRAMES.map((f) => ipOnly(f)));
    expect(raw[0].linkType).to.equal(101);
  });

  it('flushes a batch per macrotask while the stream is open, and closes the file on unsubscribe', async () => {
    const before = openFds();
    const src = new Subject<Uint8Array>();
    const sub = src.pipe(toPcap(file('live.pcap'))).subscribe();
    expect(openFds()).to.equal(before + 1);
    for (const f of FRAMES) src.next(f);
    expect(fs.statSync(file('live.pcap')).size).to.equal(0); // batched, not yet written
    await tick();
    await tick();
    const size = fs.statSync(file('live.pcap')).size;
    expect(size).to.equal(24 + FRAMES.reduce((n, f) => n + 16 + f.length, 0));
    src.next(ICMP_ECHO);
    sub.unsubscribe();
    expect(openFds()).to.equal(before);
    expect(fs.statSync(file('live.pcap')).size).to.equal(size + 16 + ICMP_ECHO.length);
  });

  it('flushes and closes on error, and errors when the file cannot be opened', async () => {
    const before = openFds();
    const src = new Subject<Uint8Array>();
    const got: unknown[] = [];
    src.pipe(toPcap(file('err.pcap'))).subscribe({ error: (e) => got.push(e) });
    src.next(ICMP_ECHO);
    src.error(new Error('link down'));
    expect(got).to.have.length(1);
    expect(openFds()).to.equal(before);
    expect(await lastValueFrom(fromPcap(file('err.pcap')).pipe(toArray()))).to.deep.equal([
      ICMP_ECHO,
    ]);
    const nowhere = lastValueFrom(from(FRAMES).pipe(toPcap(file('no/such/dir.pcap'))));
    await nowhere.then(
      () => expect.fail('should have errored'),
      (e: NodeJS.ErrnoException) => expect(e.code).to.equal('ENOENT'),
    );
  });

  it('reads big-endian and nanosecond files', async () => {
    const recs: [number, number, number[]][] = [
      [10, 999_999, [1, 2, 3]],
      [11, 5, []],
      [12, 7, [9]],
    ];
    fs.writeFileSync(file('be.pcap'), handMade(false, 0xa1b2c3d4, recs));
    fs.writeFileSync(file('ns.pcap'), handMade(true, 0xa1b23c4d, recs));
    fs.writeFileSync(file('bens.pcap'), handMade(false, 0xa1b23c4d, recs));
    const read = (name: string): Promise<PcapRecord[]> =>
      lastValueFrom(fromPcapRecords(file(name)).pipe(toArray()));
    const be = await read('be.pcap');
    expect(be.map((r) => [r.seconds, r.nanoseconds, [...r.data], r.originalLength])).to.deep.equal([
      [10, 999_999_000, [1, 2, 3], 7],
      [11, 5000, [], 4],
      [12, 7000, [9], 5],
    ]);
    for (const name of ['ns.pcap', 'bens.pcap'])
      expect((await read(name)).map((r) => [r.seconds, r.nanoseconds])).to.deep.equal([
        [10, 999_999],
        [11, 5],
        [12, 7],
      ]);
  });

  it('errors clearly on truncated and foreign files', async () => {
    const whole = handMade(true, 0xa1b2c3d4, [
      [1, 0, [1, 2, 3, 4]],
      [2, 0, [5, 6, 7, 8]],
    ]);
    const cases: [string, Buffer, RegExp][] = [
      [
        'cut-data.pcap',
        whole.subarray(0, whole.length - 1),
        /truncated record 1 at byte 44: 19 of 20 record bytes/,
      ],
      [
        'cut-head.pcap',
        whole.subarray(0, 44 + 10),
        /truncated record 1 at byte 44: 10 of 16 header bytes/,
      ],
      ['cut-global.pcap', whole.subarray(0, 10), /truncated global header \(10 of 24 bytes\)/],
      ['empty.pcap', Buffer.alloc(0), /empty file/],
      ['text.pcap', Buffer.from('hello, this is not a pcap file'), /bad magic 0x68656c6c/],
      ['ng.pcap', Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff', 'hex'), /pcapng/],
    ];
    for (const [name, bytes, message] of cases) {
      fs.writeFileSync(file(name), bytes);
      const got: PcapRecord[] = [];
      const err = await new Promise<unknown>((resolve) =>
        fromPcapRecords(file(name), { chunkSize: 16 }).subscribe({
          next: (r) => got.push(r),
          error: resolve,
          complete: () => resolve(undefined),
        }),
      );
      expect(err, name).to.be.instanceOf(PcapFormatError);
      expect((err as Error).message, name)
        .to.match(message)
        .and.to.include(name);
      if (name === 'cut-data.pcap')
        expect(got.map((r) => [...r.data])).to.deep.equal([[1, 2, 3, 4]]);
    }
    const missing = firstValueFrom(fromPcap(file('missing.pcap')));
    await missing.then(
      () => expect.fail('should have errored'),
      (e: NodeJS.ErrnoException) => expect(e.code).to.equal('ENOENT'),
    );
  });

  it('closes the file when unsubscribed early', async () => {
    const before = openFds();
    await lastValueFrom(fromPcap(file('many.pcap'), { chunkSize: 4096 }).pipe(take(3)));
    for (let i = 0; i < 5 && openFds() !== before; i++) await tick();
    expect(openFds()).to.equal(before);
  });

  it('writes files tshark reads', function () {
    if (!hasTshark) {
      if (process.env.CI === 'true') throw new Error('tshark is required in CI');
      console.log('      (tshark not found: skipped; apt-get install -y tshark)');
      this.skip();
    }
    const lines = (name: string): string[] =>
      execFileSync('tshark', ['-n', '-r', file(name)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      })
        .trim()
        .split('\n');
    const eth = lines('eth.pcap');
    expect(eth).to.have.length(FRAMES.length);
    expect(eth[0]).to.match(/ARP/);
    expect(eth[1]).to.match(/ICMP/);
    expect(eth[3]).to.match(/ICMPv6/);
    const raw = lines('raw.pcap');
    expect(raw).to.have.length(FRAMES.length);
    expect(raw[1]).to.match(/10\.0\.0\.2 → 10\.0\.0\.1 +ICMP|10\.0\.0\.2 -> 10\.0\.0\.1/);
    expect(lines('many.pcap')).to.have.length(3000);
  });

  it('writes responder replies whose checksums tshark finds correct', async function () {
    if (!hasTshark) this.skip();
    const requests = [ARP_REQUEST, ICMP_ECHO, ICMP6_ECHO, NEIGHBOR_SOLICITATION];
    const responder = icmpResponder({ ip: ['10.0.0.1', 'fd00::1'], mac: MAC_A });
    await lastValueFrom(from(requests).pipe(responder, toPcap(file('replies.pcap'))));
    const checks = ['ip', 'udp', 'tcp'].flatMap((p) => ['-o', `${p}.check_checksum:TRUE`]);
    const text = execFileSync('tshark', ['-n', '-V', ...checks, '-r', file('replies.pcap')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    expect(text)
      .to.match(/Opcode: reply/)
      .and.to.match(/Neighbor Advertisement/);
    expect(text).to.not.match(/incorrect|Bad/);
    expect(text.match(/\[correct\]/g)).to.have.length(4); // IPv4 header, ICMP, ICMPv6 x2
  });
});
