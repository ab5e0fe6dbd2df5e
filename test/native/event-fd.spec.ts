import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { loadNative } from '../../src/native-bridge';
import type { NativeControlChannel, NativeEventFd } from '../../src/native-bridge';
import { expectMemifError, until } from '../helpers/expect';

const native = loadNative();
const { errno } = os.constants;



const tick = (ms = 10): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const isOpen = (fd: number): boolean => {
  try {
    fs.fstatSync(fd);
    return true;
  } catch {
    return false;
  }
};

describe('native eventfds', () => {
  let live: number;
  beforeEach(() => {
    live = native.liveHandles();
  });
  afterEach(() => {
    expect(native.liveHandles(), 'objects left open').to.equal(live);
  });

  it('counts signals and drains them', () => {
    const event = native.EventFd.create();
    try {
      expect(fs.readlinkSync(`/proc/self/fd/${event.fd}`)).to.equal('anon_inode:[eventfd]');
      expect(event.drain()).to.equal(0);
      event.signal();
      event.signal();
      event.signal();
      expect(event.drain()).to.equal(3);
      expect(event.drain()).to.equal(0);
    } finally {
      event.close();
    }
  });

  it('wakes watch() with the drained count; unwatch() stops it and keeps the fd', async () => {
    const event = native.EventFd.create();
    try {
      const counts: number[] = [];
      event.watch((count) => counts.push(count));
      event.signal();
      event.signal();
      await until(() => counts.length === 1, 'a wake-up');
      expect(counts).to.deep.equal([2]);
      event.signal();
      await until(() => counts.length === 2, 'a second wake-up');
      expect(counts).to.deep.equal([2, 1]);

      event.unwatch();
      event.unwatch();
      event.signal();
      await tick();
      expect(counts).to.have.length(2);
      expect(event.closed).to.equal(false);
      expect(event.drain(), 'nobody drained it').to.equal(1);

      // Watching again works, and a later watch() replaces the handler.
      const others: number[] = [];
      event.watch((count) => counts.push(count));
      event.watch((count) => others.push(count));
      event.signal();
      await until(() => others.length === 1, 'the replacing handler');
      expect(counts).to.have.length(2);
    } finally {
      event.close();
    }
  });

  it('adopts an eventfd received over a control channel and wakes on the sender signal', async () => {
    const address = `@rx-memif-test-${process.pid}-eventfd`;
    const accepted: NativeControlChannel[] = [];
    const listener = native.ControlListener.listen(address, (c) => accepted.push(c), () => {});
    const client = native.ControlChannel.connect(address);
    const event = native.EventFd.create();
    let adopted: NativeEventFd | undefined;
    try {
      await until(() => accepted.length === 1, 'connection');
      const received: number[] = [];
      accepted[0].start(
        (_frame, fds) => received.push(...fds),
        () => {},
      );
      client.send(new Uint8Array(128), event.fd);
      await until(() => received.length === 1, 'the eventfd');
      adopted = native.EventFd.adopt(received[0]);
      expect(adopted.fd).to.equal(received[0]);
      const flags = /^flags:\s+([0-7]+)$/m.exec(
        fs.readFileSync(`/proc/self/fdinfo/${adopted.fd}`, 'utf8'),
      );
      expect(flags, 'fdinfo flags').to.not.equal(null);
      expect(parseInt(flags?.[1] ?? '0', 8) & fs.constants.O_NONBLOCK).to.equal(fs.constants.O_NONBLOCK);
      const counts: number[] = [];
      adopted.watch((count) => counts.push(count));
      event.signal();
      event.signal();
      event.signal();
      await until(() => counts.reduce((a, b) => a + b, 0) === 3, 'three signals');
      // And the other way round.
      adopted.signal();
      expect(event.drain()).to.equal(1);
    } finally {
      adopted?.close();
      event.close();
      client.close();
      accepted.forEach((c) => c.close());
      listener.close();
    }
  });

  it('refuses with EPROTO to adopt a non-eventfd, and closes it', () => {
    const region = native.Region.create('not an eventfd', 4096);
    try {
      const fd = fs.openSync(`/proc/self/fd/${region.fd}`, 'r+');
      const error = expectMemifError(() => native.EventFd.adopt(fd), 'EPROTO', errno.EPROTO);
      expect(error.message).to.contain('not an eventfd');
      expect(isOpen(fd)).to.equal(false);
    } finally {
      region.close();
    }
    const event = native.EventFd.create();
    const fd = event.fd;
    event.close();
    expectMemifError(() => native.EventFd.adopt(fd), 'EBADF', errno.EBADF);
  });

  it('can be closed from its own callback, and twice', async () => {
    const event = native.EventFd.create();
    const counts: number[] = [];
    event.watch((count) => {
      counts.push(count);
      event.close();
    });
    event.signal();
    await until(() => counts.length === 1, 'the wake-up');
    expect(event.closed).to.equal(true);
    expect(event.fd).to.equal(-1);
    event.close();
    event.unwatch();
    expectMemifError(() => event.signal(), 'EBADF', errno.EBADF);
    expectMemifError(() => event.drain(), 'EBADF', errno.EBADF);
    expectMemifError(() => event.watch(() => {}), 'EBADF', errno.EBADF);
  });
});
