import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { loadNative } from '../../src/native-bridge';
import type { NativeControlChannel, NativeRegion } from '../../src/native-bridge';
import { expectMemifError, until } from '../helpers/expect';

const native = loadNative();
const { errno } = os.constants;
const F_SEAL_SHRINK = 0x0002;



/** A second, independent fd for the same memfd (like one received from a peer). */
const reopen = (region: NativeRegion): number => fs.openSync(`/proc/self/fd/${region.fd}`, 'r+');

const isOpen = (fd: number): boolean => {
  try {
    fs.fstatSync(fd);
    return true;
  } catch {
    return false;
  }
};

describe('native regions', () => {
  let live: number;
  beforeEach(() => {
    live = native.liveHandles();
  });
  afterEach(() => {
    expect(native.liveHandles(), 'objects left open').to.equal(live);
  });

  it('creates a sealed, zero-filled, writable memfd mapping', () => {
    const region = native.Region.create('rx-memif test region', 10000);
    try {
      expect(region.size).to.equal(10000);
      expect(region.closed).to.equal(false);
      expect(region.seals & F_SEAL_SHRINK).to.equal(F_SEAL_SHRINK);
      expect(fs.readlinkSync(`/proc/self/fd/${region.fd}`)).to.match(/^\/memfd:rx-memif test region/);
      expect(fs.fstatSync(region.fd).size).to.equal(10000);
      expect(region.buffer).to.be.instanceOf(ArrayBuffer);
      expect(region.buffer).to.equal(region.buffer, 'the same ArrayBuffer each time');
      const bytes = new Uint8Array(region.buffer);
      expect(bytes.length).to.equal(10000);
      expect(bytes.every((b) => b === 0)).to.equal(true);
      bytes[9999] = 0xab;
      const check = Buffer.alloc(1);
      fs.readSync(region.fd, check, 0, 1, 9999);
      expect(check[0]).to.equal(0xab);
      // The shrink seal holds.
      expect(() => fs.ftruncateSync(region.fd, 100)).to.throw(/EPERM/);
    } finally {
      region.close();
    }
  });

  it('shares memory with a mapping of its fd received over a control channel', async () => {
    const address = `@rx-memif-test-${process.pid}-region`;
    const accepted: NativeControlChannel[] = [];
    const listener = native.ControlListener.listen(address, (c) => accepted.push(c), () => {});
    const client = native.ControlChannel.connect(address);
    const region = native.Region.create('shared', 65536);
    let mapped: NativeRegion | undefined;
    try {
      await until(() => accepted.length === 1, 'connection');
      const received: number[] = [];
      accepted[0].start(
        (_frame, fds) => received.push(...fds),
        () => {},
      );
      client.send(new Uint8Array(128), region.fd);
      await until(() => received.length === 1, 'the region fd');
      mapped = native.Region.map(received[0], 65536);
      expect(mapped.fd).to.equal(received[0]);
      const mine = new Uint32Array(region.buffer);
      const theirs = new Uint32Array(mapped.buffer);
      mine[1000] = 0xdeadbeef;
      expect(theirs[1000]).to.equal(0xdeadbeef);
      theirs[16383] = 42;
      expect(mine[16383]).to.equal(42);
      // Closing one side leaves the other intact.
      mapped.close();
      expect(mine[1000]).to.equal(0xdeadbeef);
    } finally {
      mapped?.close();
      region.close();
      client.close();
      accepted.forEach((c) => c.close());
      listener.close();
    }
  });

  it('maps a file larger than the claimed size', () => {
    const region = native.Region.create('bigger', 8192);
    const mapped = native.Region.map(reopen(region), 4096);
    try {
      expect(mapped.size).to.equal(4096);
      expect(mapped.buffer.byteLength).to.equal(4096);
    } finally {
      mapped.close();
      region.close();
    }
  });

  it('refuses with EPROTO an fd smaller than claimed, and closes that fd', () => {
    const region = native.Region.create('small', 4096);
    try {
      const fd = reopen(region);
      const error = expectMemifError(() => native.Region.map(fd, 8192), 'EPROTO', errno.EPROTO);
      expect(error.message).to.equal('memif region fd is 4096 bytes, peer claims 8192');
      expect(isOpen(fd), 'map() owns the fd even when it fails').to.equal(false);
    } finally {
      region.close();
    }
  });

  it('refuses with EINVAL a size of 0 or over 2^53, closing the fd', () => {
    const region = native.Region.create('sizes', 4096);
    try {
      for (const size of [0, 2 ** 53, 1.5, -1, Number.NaN]) {
        const fd = reopen(region);
        expectMemifError(() => native.Region.map(fd, size), 'EINVAL', errno.EINVAL);
        expect(isOpen(fd), `fd closed after size ${size}`).to.equal(false);
      }
      expectMemifError(() => native.Region.create('zero', 0), 'EINVAL', errno.EINVAL);
    } finally {
      region.close();
    }
  });

  it('reports EBADF for an fd that is not open', () => {
    const region = native.Region.create('gone', 4096);
    const fd = reopen(region);
    fs.closeSync(fd);
    region.close();
    expectMemifError(() => native.Region.map(fd, 4096), 'EBADF', errno.EBADF);
  });

  it('detaches its buffer on close: views read as empty, nothing crashes', () => {
    const region = native.Region.create('detach', 4096);
    const buffer = region.buffer;
    const view = new Uint8Array(buffer, 100, 50);
    const words = new Float64Array(buffer);
    view[0] = 1;
    region.close();
    expect(region.closed).to.equal(true);
    expect(buffer.byteLength).to.equal(0);
    expect(region.buffer.byteLength).to.equal(0);
    expect(view.length).to.equal(0);
    expect(view.byteLength).to.equal(0);
    expect(view[0]).to.equal(undefined);
    expect(words.length).to.equal(0);
    expect(words[10]).to.equal(undefined);
    expect(region.fd).to.equal(-1);
    expect(region.seals).to.equal(-1);
    region.close();
    expect(region.closed).to.equal(true);
  });
});
