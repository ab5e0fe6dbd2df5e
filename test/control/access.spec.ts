import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { memif, MemifError, OptionsError } from '../../src/index';
import type { ConnectionState, MemifInterface, MemifOptions } from '../../src/index';
import { secretsEqual } from '../../src/control/handshake/secret';
import { loadNative } from '../../src/native-bridge';
import { AS_USER_TAG, NOBODY, sharedDir } from '../helpers/as-user';
import { runCli } from '../helpers/cli';
import { abstractName, recordStates, waitForState } from '../helpers/states';

/**
 * Issue #16, who may connect: the socket file's mode and group set at bind, the peer's
 * credentials (SO_PEERCRED) in `connected`, and the allow-lists in both roles. Children that
 * connect as another user run from the world-readable sandbox of test/helpers/as-user.ts.
 */
describe('control: who may connect (socket mode and group, peer credentials, allow-lists)', function () {
  this.timeout(30000);
  const native = loadNative();
  const root = process.getuid?.() === 0;
  let dir = '';
  let cleanup: () => void = () => undefined;
  let open: MemifInterface[] = [];
  let handles = 0;

  beforeEach(() => {
    ({ dir, cleanup } = sharedDir());
    handles = native.liveHandles();
  });
  afterEach(async () => {
    await Promise.all(open.map((i) => i.close()));
    open = [];
    cleanup();
    expect(native.liveHandles(), 'native handles left open').to.equal(handles);
  });

  const make = (options: MemifOptions): MemifInterface => {
    const i = memif({ retry: { initialMs: 50 }, ...options });
    open.push(i);
    return i;
  };
  const needRoot = (ctx: Mocha.Context): void => {
    if (!root) {
      console.log('      (skipped: needs root to drop a child to another uid)');
      ctx.skip();
    }
  };
  /** `rx-memif connect` as `nobody` for `secs`, its JSON state lines. */
  const connectAsNobody = async (socket: string, secs = 3): Promise<ConnectionState[]> => {
    const run = await runCli(
      ['connect', '--socket', socket, '--json', '--secs', String(secs)],
      {},
      NOBODY,
    );
    const events = run.json();
    return events.filter((e) => e.event === 'state').map((e) => e.state as ConnectionState);
  };

  describe('socketMode and socketGroup', () => {
    it('the socket file has the mode and group from the moment it is on its path', () => {
      const socket = path.join(dir, 'm.sock');
      const server = make({ role: 'server', socket, socketMode: 0o640, socketGroup: 65534 });
      const st = fs.statSync(socket);
      expect(st.isSocket()).to.equal(true);
      expect((st.mode & 0o7777).toString(8)).to.equal('640');
      expect(st.gid).to.equal(65534);
      // The temporary directory it was bound in is gone.
      expect(fs.readdirSync(dir)).to.deep.equal(['m.sock']);
      expect(server.options.socketMode).to.equal(0o640);
    });

    it('a group name is looked up; an unknown one is a MemifError ENOENT and leaves nothing', () => {
      const named = path.join(dir, 'named.sock');
      make({ role: 'server', socket: named, socketGroup: 'nogroup', socketMode: 0o660 });
      expect(fs.statSync(named).gid).to.equal(65534);
      let caught: unknown;
      try {
        make({ role: 'server', socket: path.join(dir, 'x.sock'), socketGroup: 'no-such-group-x' });
      } catch (e) {
        caught = e;
      }
      expect(caught).to.be.instanceOf(MemifError);
      expect(caught).to.include({ code: 'ENOENT' });
      expect((caught as Error).message).to.include('no-such-group-x');
      expect(fs.readdirSync(dir)).to.deep.equal(['named.sock']);
    });

    it('refuses them for an abstract socket or a client, with a typed error that says why', () => {
      const attempt = (options: MemifOptions): Error => {
        try {
          make(options);
        } catch (e) {
          return e as Error;
        }
        throw new Error('accepted');
      };
      const abstract = attempt({ role: 'server', socket: abstractName(), socketMode: 0o600 });
      expect(abstract).to.be.instanceOf(OptionsError);
      expect(abstract.message).to.match(/abstract socket, which has no file/);
      const group = attempt({ role: 'server', socket: abstractName(), socketGroup: 0 });
      expect(group.message).to.match(/socketGroup.*abstract socket/);
      const client = attempt({ role: 'client', socket: path.join(dir, 'c'), socketMode: 0o600 });
      expect(client.message).to.match(/socketMode: applies to a server/);
    });

    it('a live listener is never replaced, with or without a mode', () => {
      const socket = path.join(dir, 'live.sock');
      make({ role: 'server', socket, socketMode: 0o600 });
      const ino = fs.statSync(socket).ino;
      let caught: unknown;
      try {
        // Another process's listener: in this process the socket is shared, so use the native one.
        native.ControlListener.listen(
          socket,
          () => undefined,
          () => undefined,
          { mode: 0o666 },
        );
      } catch (e) {
        caught = e;
      }
      expect(caught).to.include({ code: 'EADDRINUSE' });
      expect(fs.statSync(socket).ino).to.equal(ino);
      expect((fs.statSync(socket).mode & 0o777).toString(8)).to.equal('600');
      expect(fs.readdirSync(dir)).to.deep.equal(['live.sock']);
    });

    it('the native listener: EINVAL for an abstract name, ENAMETOOLONG when the temporary name does not fit', () => {
      const errorOf = (address: string): unknown => {
        try {
          const listener = native.ControlListener.listen(
            address,
            () => undefined,
            () => undefined,
            { mode: 0o600 },
          );
          listener.close();
        } catch (e) {
          return e;
        }
        throw new Error(`listened on ${address}`);
      };
      expect(errorOf(abstractName())).to.include({ code: 'EINVAL', syscall: 'bind' });
      // A short name in a deep directory: 102 bytes fit sun_path, but not the temporary
      // `<dir>/.rx-memif-XXXXXX/s` (119 bytes) it is bound as first.
      const deep = path.join(dir, 'd'.repeat(100 - dir.length - 1));
      fs.mkdirSync(deep);
      const long = path.join(deep, 's');
      expect(Buffer.byteLength(long)).to.equal(102);
      const tooLong = errorOf(long);
      expect(tooLong).to.include({ code: 'ENAMETOOLONG' });
      expect((tooLong as Error).message).to.match(/use a shorter path/);
      expect(fs.readdirSync(deep)).to.deep.equal([]);
    });

    it(`mode 0600 keeps nobody out; group nogroup with 0660 lets it in ${AS_USER_TAG}`, async function () {
      needRoot(this);
      const closed = path.join(dir, 'closed.sock');
      make({ role: 'server', socket: closed, socketMode: 0o600 });
      const refused = await connectAsNobody(closed, 2);
      expect(refused.map((s) => s.status)).to.not.include('connected');
      const down = refused.find((s) => s.status === 'disconnected');
      expect(down && 'reason' in down && down.reason).to.match(/EACCES/);

      const grouped = path.join(dir, 'grouped.sock');
      const server = make({
        role: 'server',
        socket: grouped,
        socketMode: 0o660,
        socketGroup: NOBODY.gid,
      });
      const up = waitForState(server, 'connected');
      const states = await connectAsNobody(grouped, 2);
      expect(states.map((s) => s.status)).to.include('connected');
      expect((await up).peer).to.include({ uid: NOBODY.uid, gid: NOBODY.gid });
    });
  });

  describe('peer credentials', () => {
    it('connected carries the peer pid, uid and gid in both roles', async () => {
      const socket = path.join(dir, 'cred.sock');
      const server = make({ role: 'server', socket });
      const client = make({ role: 'client', socket });
      const [s, c] = await Promise.all([
        waitForState(server, 'connected'),
        waitForState(client, 'connected'),
      ]);
      const me = { pid: process.pid, uid: process.getuid?.(), gid: process.getgid?.() };
      expect(s.peer).to.include(me);
      expect(c.peer).to.include(me);
    });
  });

  describe('allow-lists', () => {
    it(`a server refuses a uid not listed before HELLO: it never connects, both sides say why, it is counted ${AS_USER_TAG}`, async function () {
      needRoot(this);
      const socket = path.join(dir, 'allow.sock');
      const server = make({ role: 'server', socket, socketMode: 0o666, allowUids: [0] });
      const seen = recordStates(server);
      const theirs = await connectAsNobody(socket, 2);
      expect(theirs.map((s) => s.status)).to.not.include('connected');
      // Refused before HELLO: the client never got past waiting for it.
      const steps = theirs.flatMap((s) => (s.status === 'handshaking' ? [s.step] : []));
      expect(steps).to.deep.equal(steps.map(() => 'hello'));
      const told = theirs.find((s) => s.status === 'disconnected');
      expect(told).to.include({ by: 'peer' });
      expect(told && 'reason' in told && told.reason).to.match(/^peer uid 65534 not allowed/);

      expect(seen.map((s) => s.status)).to.not.include('connected');
      const ours = seen.find((s) => s.status === 'disconnected');
      expect(ours).to.include({ by: 'local' });
      expect(ours && 'reason' in ours && ours.reason).to.match(/uid 65534 not allowed/);
      expect(seen.at(-1)?.status).to.equal('listening');
      expect(server.stats().refusedPeers).to.be.at.least(1);
    });

    it(`a server lets a listed uid or gid in; its connected state names it ${AS_USER_TAG}`, async function () {
      needRoot(this);
      const socket = path.join(dir, 'ok.sock');
      const server = make({ role: 'server', socket, socketMode: 0o666, allowGids: [NOBODY.gid] });
      const up = waitForState(server, 'connected');
      const theirs = await connectAsNobody(socket, 2);
      const connected = theirs.find((s) => s.status === 'connected');
      expect(connected, JSON.stringify(theirs)).to.not.equal(undefined);
      expect(connected && 'peer' in connected && connected.peer).to.include({
        pid: process.pid,
        uid: process.getuid?.(),
      });
      const ours = await up;
      expect(ours.peer).to.include({ uid: NOBODY.uid, gid: NOBODY.gid });
      expect(ours.peer.pid).to.be.a('number').and.not.equal(process.pid);
      expect(server.stats().refusedPeers).to.equal(0);
    });

    it('a client refuses a server not listed before it sends anything (no memory handed over)', async () => {
      const socket = path.join(dir, 'srv.sock');
      const server = make({ role: 'server', socket });
      const serverStates = recordStates(server);
      const uid = process.getuid?.() ?? 0;
      const client = make({ role: 'client', socket, allowUids: [uid + 1] });
      const down = await waitForState(client, 'disconnected');
      expect(down).to.include({ by: 'local' });
      expect(down.reason).to.match(new RegExp(`^server uid ${uid} not allowed`));
      expect(down.retry, 'it keeps trying: the server may change').to.not.equal(null);
      expect(client.stats().refusedPeers).to.be.at.least(1);
      // Our server sent HELLO and got a DISCONNECT in return: it never began a handshake.
      await new Promise((r) => setTimeout(r, 100));
      expect(serverStates.map((s) => s.status)).to.deep.equal(['listening']);
    });

    it('a client lets a listed server in', async () => {
      const socket = path.join(dir, 'srv-ok.sock');
      make({ role: 'server', socket });
      const client = make({ role: 'client', socket, allowUids: [process.getuid?.() ?? 0] });
      const up = await waitForState(client, 'connected');
      expect(up.peer).to.include({ pid: process.pid });
      expect(client.stats().refusedPeers).to.equal(0);
    });

    it('rejects bad lists with an OptionsError', () => {
      for (const bad of [{ allowUids: [-1] }, { allowUids: 0 }, { allowGids: [1.5] }]) {
        expect(() => memif({ role: 'client', ...bad } as MemifOptions)).to.throw(
          OptionsError,
          /allow(Uids|Gids)/,
        );
      }
    });
  });

  describe('secret', () => {
    it('compares whole fields: equal, different, prefix, empty', () => {
      expect(secretsEqual('open-sesame', 'open-sesame')).to.equal(true);
      expect(secretsEqual('open-sesame', 'open-sesamE')).to.equal(false);
      expect(secretsEqual('open', 'open-sesame')).to.equal(false);
      expect(secretsEqual('', '')).to.equal(true);
      expect(secretsEqual('', 'x')).to.equal(false);
      expect(secretsEqual('x'.repeat(23), 'x'.repeat(23))).to.equal(true);
    });

    it('a wrong secret is refused without either secret in any state', async () => {
      const socket = path.join(dir, 'secret.sock');
      const server = make({ role: 'server', socket, secret: 'server-secret-1' });
      const client = make({ role: 'client', socket, secret: 'client-guess-2' });
      const [s, c] = [recordStates(server), recordStates(client)];
      const down = await waitForState(client, 'disconnected');
      expect(down.reason).to.equal('incorrect secret');
      const text = JSON.stringify([...s, ...c]);
      expect(text).to.not.include('server-secret-1');
      expect(text).to.not.include('client-guess-2');
    });
  });
});
