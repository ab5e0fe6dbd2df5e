import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadNative, MemifError } from '../../src/native-bridge';
import type { NativeControlChannel, NativeControlListener } from '../../src/native-bridge';
import { expectMemifError, until } from '../helpers/expect';

const native = loadNative();
const { errno } = os.constants;

let abstractCounter = 0;
const abstractName = (): string => `@rx-memif-test-${process.pid}-${abstractCounter++}`;

const addonFile = (): string => {
  const root = path.resolve(__dirname, '..', '..');
  const preferred = process.env.RX_MEMIF_ADDON;
  if (preferred) return path.resolve(preferred);
  const builds = ['Release', 'Debug'].map((k) => path.join(root, 'build', k, 'rx_memif.node'));
  return builds.find((f) => fs.existsSync(f)) ?? builds[0];
};



interface Frame {
  frame: Uint8Array;
  fds: readonly number[];
  truncated: boolean;
}

/** Records what a started channel reports. */
class Inbox {
  readonly frames: Frame[] = [];
  readonly ends: Array<Error | null> = [];
  readonly onFrame = (frame: Uint8Array, fds: readonly number[], truncated: boolean): void => {
    this.frames.push({ frame, fds, truncated });
  };
  readonly onClose = (error: Error | null): void => {
    this.ends.push(error);
  };
  start(channel: NativeControlChannel): this {
    channel.start(this.onFrame, this.onClose);
    return this;
  }
}

const frameOf = (seed: number, length = 128): Uint8Array =>
  Uint8Array.from({ length }, (_, i) => (seed + i) & 0xff);

/** A listener and one accepted connection, neither channel started. */
const acceptOne = async (address: string) => {
  const accepted: NativeControlChannel[] = [];
  const errors: Error[] = [];
  const listener = native.ControlListener.listen(
    address,
    (channel) => accepted.push(channel),
    (error) => errors.push(error),
  );
  const client = native.ControlChannel.connect(address);
  await until(() => accepted.length === 1, 'the connection');
  const server = accepted[0];
  const close = (): void => {
    client.close();
    server.close();
    listener.close();
  };
  return { listener, client, server, errors, close };
};

/** A listener and one connected pair of channels, both started. */
const connectPair = async (address: string) => {
  const pair = await acceptOne(address);
  return { ...pair, clientInbox: new Inbox().start(pair.client), serverInbox: new Inbox().start(pair.server) };
};

describe('native control sockets', () => {
  let dir: string;
  let live: number;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rx-memif-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    live = native.liveHandles();
  });
  afterEach(() => {
    expect(native.liveHandles(), 'objects left open').to.equal(live);
  });

  const exchange = async (address: string): Promise<void> => {
    const pair = await connectPair(address);
    try {
      expect(pair.listener.address).to.equal(address);
      expect(pair.listener.closed).to.equal(false);
      pair.client.send(frameOf(1));
      pair.server.send(frameOf(2));
      await until(() => pair.serverInbox.frames.length === 1, 'frame at server');
      await until(() => pair.clientInbox.frames.length === 1, 'frame at client');
      expect(pair.serverInbox.frames[0]).to.deep.equal({
        frame: frameOf(1),
        fds: [],
        truncated: false,
      });
      expect(pair.clientInbox.frames[0]).to.deep.equal({
        frame: frameOf(2),
        fds: [],
        truncated: false,
      });
    } finally {
      pair.close();
    }
  };

  it('exchanges 128-byte frames both ways on a filesystem path', async () => {
    const address = path.join(dir, 'fs.sock');
    await exchange(address);
    expect(fs.existsSync(address), 'socket file unlinked by close').to.equal(false);
  });

  it('exchanges 128-byte frames both ways on an abstract name', async () => {
    await exchange(abstractName());
  });

  it('delivers every queued datagram, in order', async () => {
    const pair = await connectPair(abstractName());
    try {
      for (let i = 0; i < 100; i++) pair.client.send(frameOf(i));
      await until(() => pair.serverInbox.frames.length === 100, '100 frames');
      pair.serverInbox.frames.forEach(({ frame }, i) => expect(frame).to.deep.equal(frameOf(i)));
    } finally {
      pair.close();
    }
  });

  it('reports a datagram longer than the receive buffer as truncated', async () => {
    const pair = await connectPair(abstractName());
    try {
      pair.client.send(frameOf(9, 300));
      pair.client.send(frameOf(10, 64));
      await until(() => pair.serverInbox.frames.length === 2, 'two frames');
      const [long, short] = pair.serverInbox.frames;
      expect(long.truncated).to.equal(true);
      expect(long.frame.length).to.equal(256);
      expect(long.frame).to.deep.equal(frameOf(9, 256));
      expect(short).to.deep.equal({ frame: frameOf(10, 64), fds: [], truncated: false });
    } finally {
      pair.close();
    }
  });

  it('stops reading when a frame handler closes the channel', async () => {
    const pair = await acceptOne(abstractName());
    try {
      for (let i = 0; i < 3; i++) pair.client.send(frameOf(i));
      // All three are queued before the channel starts, so one wake sees them all.
      const seen: Uint8Array[] = [];
      const ends: Array<Error | null> = [];
      pair.server.start(
        (frame) => {
          seen.push(frame);
          pair.server.close();
        },
        (error) => ends.push(error),
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(seen).to.have.length(1);
      expect(pair.server.closed).to.equal(true);
      expect(ends, 'no onClose after a local close').to.deep.equal([]);
    } finally {
      pair.close();
    }
  });

  it('reports EOF once with null when the peer closes, and not after a local close', async () => {
    const pair = await connectPair(abstractName());
    try {
      pair.client.close();
      await until(() => pair.serverInbox.ends.length === 1, 'EOF at server');
      expect(pair.serverInbox.ends).to.deep.equal([null]);
      expect(pair.server.closed, 'an ended channel is closed').to.equal(true);
      expect(pair.clientInbox.ends, 'local close is not reported').to.deep.equal([]);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(pair.serverInbox.ends).to.have.length(1);
    } finally {
      pair.close();
    }
  });

  it('reports EOF to the client when the server side closes', async () => {
    const pair = await connectPair(abstractName());
    try {
      pair.server.close();
      await until(() => pair.clientInbox.ends.length === 1, 'EOF at client');
      expect(pair.clientInbox.ends).to.deep.equal([null]);
    } finally {
      pair.close();
    }
  });

  it('passes an fd with a frame (SCM_RIGHTS) alongside the credentials', async () => {
    const pair = await connectPair(abstractName());
    const event = native.EventFd.create();
    try {
      // Server side: accepted sockets have SO_PASSCRED, so the fd comes after a credentials cmsg.
      pair.client.send(frameOf(3), event.fd);
      pair.server.send(frameOf(4), event.fd);
      await until(() => pair.serverInbox.frames.length === 1, 'frame with fd at server');
      await until(() => pair.clientInbox.frames.length === 1, 'frame with fd at client');
      for (const { fds, truncated } of [pair.serverInbox.frames[0], pair.clientInbox.frames[0]]) {
        expect(truncated).to.equal(false);
        expect(fds).to.have.length(1);
        expect(fds[0]).to.not.equal(event.fd);
        expect(fs.readlinkSync(`/proc/self/fd/${fds[0]}`)).to.equal('anon_inode:[eventfd]');
        native.closeFd(fds[0]);
      }
      // A negative fd means none.
      pair.client.send(frameOf(5), -1);
      await until(() => pair.serverInbox.frames.length === 2, 'second frame');
      expect(pair.serverInbox.frames[1].fds).to.deep.equal([]);
    } finally {
      event.close();
      pair.close();
    }
  });

  it('refuses empty frames, non-Uint8Array frames and sends on a closed channel', async () => {
    const pair = await connectPair(abstractName());
    try {
      expectMemifError(() => pair.client.send(new Uint8Array(0)), 'EINVAL', errno.EINVAL);
      expectMemifError(
        () => pair.client.send(new Uint16Array(64) as unknown as Uint8Array),
        'EINVAL',
        errno.EINVAL,
      );
      pair.client.close();
      pair.client.close();
      expectMemifError(() => pair.client.send(frameOf(0)), 'EBADF', errno.EBADF);
      expectMemifError(
        () => pair.client.start(() => {}, () => {}),
        'EBADF',
        errno.EBADF,
      );
    } finally {
      pair.close();
    }
  });

  it('throws EPIPE when sending to a peer that has gone', async () => {
    const pair = await acceptOne(abstractName());
    try {
      pair.server.close();
      expectMemifError(() => pair.client.send(frameOf(0)), 'EPIPE', errno.EPIPE);
      expect(pair.client.closed, 'a failed send does not close').to.equal(false);
    } finally {
      pair.close();
    }
  });

  it('throws on start() twice', async () => {
    const pair = await acceptOne(abstractName());
    try {
      pair.client.start(() => {}, () => {});
      expectMemifError(() => pair.client.start(() => {}, () => {}), 'EINVAL', errno.EINVAL);
    } finally {
      pair.close();
    }
  });

  it('does not construct objects from JS', () => {
    const Listener = native.ControlListener as unknown as new () => unknown;
    expect(() => new Listener()).to.throw(MemifError);
  });

  describe('address errors', () => {
    it('ENAMETOOLONG for a 108-byte path and a 108-byte abstract name', () => {
      const long = dir + '/' + 'x'.repeat(108 - dir.length - 1);
      expect(Buffer.byteLength(long)).to.equal(108);
      const error = expectMemifError(
        () => native.ControlListener.listen(long, () => {}, () => {}),
        'ENAMETOOLONG',
        errno.ENAMETOOLONG,
      );
      expect(error.syscall).to.equal('bind');
      expectMemifError(
        () => native.ControlChannel.connect(long),
        'ENAMETOOLONG',
        errno.ENAMETOOLONG,
      );
      expectMemifError(
        () => native.ControlListener.listen('@' + 'y'.repeat(108), () => {}, () => {}),
        'ENAMETOOLONG',
        errno.ENAMETOOLONG,
      );
      // 107 bytes is the limit and works.
      const fits = long.slice(0, 107);
      const listener = native.ControlListener.listen(fits, () => {}, () => {});
      listener.close();
      expect(fs.existsSync(fits)).to.equal(false);
    });

    it('EINVAL for an empty address', () => {
      expectMemifError(
        () => native.ControlListener.listen('', () => {}, () => {}),
        'EINVAL',
        errno.EINVAL,
      );
      expectMemifError(() => native.ControlChannel.connect('@'), 'EINVAL', errno.EINVAL);
    });

    it('ENOENT for a missing directory or a missing socket', () => {
      const error = expectMemifError(
        () => native.ControlListener.listen(path.join(dir, 'missing', 'x.sock'), () => {}, () => {}),
        'ENOENT',
        errno.ENOENT,
      );
      expect(error.message).to.contain(path.join(dir, 'missing', 'x.sock'));
      expectMemifError(
        () => native.ControlChannel.connect(path.join(dir, 'nobody.sock')),
        'ENOENT',
        errno.ENOENT,
      );
      expectMemifError(() => native.ControlChannel.connect(abstractName()), 'ECONNREFUSED', errno.ECONNREFUSED);
    });

    it('EADDRINUSE for a live listener, which keeps working (it sees one probe connection)', async () => {
      const address = path.join(dir, 'live.sock');
      const accepted: NativeControlChannel[] = [];
      const listener = native.ControlListener.listen(address, (c) => accepted.push(c), () => {});
      try {
        const error = expectMemifError(
          () => native.ControlListener.listen(address, () => {}, () => {}),
          'EADDRINUSE',
          errno.EADDRINUSE,
        );
        expect(error.message).to.equal(`bind(${address}): address in use by a live listener`);
        expect(error.syscall).to.equal('bind');
        // The probe connected and hung up at once.
        await until(() => accepted.length === 1, 'the probe connection');
        const probe = new Inbox().start(accepted[0]);
        await until(() => probe.ends.length === 1, 'the probe EOF');
        expect(probe.ends).to.deep.equal([null]);
        // Still the same listener, still accepting.
        expect(fs.statSync(address).isSocket()).to.equal(true);
        const client = native.ControlChannel.connect(address);
        await until(() => accepted.length === 2, 'a real connection');
        client.close();
        accepted[1].close();
      } finally {
        listener.close();
      }
    });

    it('EADDRINUSE for an abstract name in use', () => {
      const address = abstractName();
      const listener = native.ControlListener.listen(address, () => {}, () => {});
      try {
        expectMemifError(
          () => native.ControlListener.listen(address, () => {}, () => {}),
          'EADDRINUSE',
          errno.EADDRINUSE,
        );
      } finally {
        listener.close();
      }
    });

    it('EADDRINUSE for an existing file that is not a socket, which is left alone', () => {
      const address = path.join(dir, 'plain-file');
      fs.writeFileSync(address, 'keep me');
      const error = expectMemifError(
        () => native.ControlListener.listen(address, () => {}, () => {}),
        'EADDRINUSE',
        errno.EADDRINUSE,
      );
      expect(error.message).to.contain('not a socket');
      expect(fs.readFileSync(address, 'utf8')).to.equal('keep me');
    });

    it('replaces a stale socket file left by a killed process', async () => {
      const address = path.join(dir, 'stale.sock');
      const child = spawn(
        process.execPath,
        [
          '-e',
          `const b = require(${JSON.stringify(addonFile())});
           b.ControlListener.listen(${JSON.stringify(address)}, () => {}, () => {});
           console.log('ready');`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('ready')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
      });
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      expect(fs.statSync(address).isSocket(), 'stale socket file left behind').to.equal(true);
      expectMemifError(() => native.ControlChannel.connect(address), 'ECONNREFUSED', errno.ECONNREFUSED);

      const accepted: NativeControlChannel[] = [];
      const listener = native.ControlListener.listen(address, (c) => accepted.push(c), () => {});
      try {
        const client = native.ControlChannel.connect(address);
        await until(() => accepted.length === 1, 'a connection to the new listener');
        client.close();
        accepted[0].close();
      } finally {
        listener.close();
      }
      expect(fs.existsSync(address)).to.equal(false);
    });
  });

  describe('listener close', () => {
    it('unlinks its socket file and is idempotent', () => {
      const address = path.join(dir, 'close.sock');
      const listener: NativeControlListener = native.ControlListener.listen(address, () => {}, () => {});
      expect(fs.statSync(address).isSocket()).to.equal(true);
      listener.close();
      expect(listener.closed).to.equal(true);
      expect(fs.existsSync(address)).to.equal(false);
      listener.close();
      expect(listener.address).to.equal(address);
    });

    it('leaves a file alone that replaced its socket file', () => {
      const address = path.join(dir, 'replaced.sock');
      const listener = native.ControlListener.listen(address, () => {}, () => {});
      fs.unlinkSync(address);
      fs.writeFileSync(address, 'not yours');
      listener.close();
      expect(fs.readFileSync(address, 'utf8')).to.equal('not yours');
      fs.unlinkSync(address);
    });

    it('leaves a socket alone that another listener bound after an unlink', () => {
      const address = path.join(dir, 'rebound.sock');
      const first = native.ControlListener.listen(address, () => {}, () => {});
      fs.unlinkSync(address);
      const second = native.ControlListener.listen(address, () => {}, () => {});
      first.close();
      expect(fs.statSync(address).isSocket(), 'the second listener keeps its file').to.equal(true);
      second.close();
      expect(fs.existsSync(address)).to.equal(false);
    });
  });
});
