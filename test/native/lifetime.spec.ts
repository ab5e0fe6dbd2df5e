import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadNative, MemifError } from '../../src/native-bridge';
import { until } from '../helpers/expect';

const native = loadNative();

const addonFile = (): string => {
  const root = path.resolve(__dirname, '..', '..');
  const preferred = process.env.RX_MEMIF_ADDON;
  if (preferred) return path.resolve(preferred);
  const builds = ['Release', 'Debug'].map((k) => path.join(root, 'build', k, 'rx_memif.node'));
  return builds.find((f) => fs.existsSync(f)) ?? builds[0];
};

let abstractCounter = 0;
const abstractName = (): string => `@rx-memif-test-${process.pid}-life-${abstractCounter++}`;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a script in a child node that has the addon as `b`; it must end within `ms`. */
const runChild = (body: string, args: string[] = [], ms = 10000): Promise<Run> =>
  new Promise((resolve, reject) => {
    const script = `const b = require(${JSON.stringify(addonFile())});\n${body}`;
    const child = spawn(process.execPath, [...args, '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not exit within ${ms} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, ms);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });

/** Opens one of everything in a worker and leaves it all open. */
const workerScript = `
const { parentPort, workerData } = require('node:worker_threads');
const b = require(workerData.addon);
b.ControlListener.listen(workerData.abstract, (channel) => {
  channel.start(() => {}, () => {});
  parentPort.postMessage('accepted');
}, () => {});
b.ControlListener.listen(workerData.path, () => {}, () => {});
const event = b.EventFd.create();
event.watch(() => {});
const region = b.Region.create('worker region', 65536);
globalThis.view = new Uint8Array(region.buffer);
globalThis.view[0] = 1;
b.ControlChannel.connect(workerData.abstract).start(() => {}, () => {});
if (workerData.throwFromCallback) event.watch(() => { throw new Error('boom in worker'); });
parentPort.on('message', (message) => {
  if (message === 'exit') process.exit(0);
  if (message === 'signal') event.signal();
});
parentPort.postMessage({ live: b.liveHandles() });
`;

type Ending = 'process.exit' | 'terminate' | 'uncaught exception';

describe('native lifetime', () => {
  let dir: string;
  let live: number;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rx-memif-life-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    live = native.liveHandles();
  });
  afterEach(() => {
    expect(native.liveHandles(), 'objects left open').to.equal(live);
  });

  it('reports the cache line size it was built for', () => {
    const expected = process.arch === 'arm64' ? 128 : 64;
    expect(native.cacheLineSize).to.equal(expected);
  });

  it('closeFd closes a raw fd and ignores one that is not open', () => {
    const region = native.Region.create('raw', 4096);
    const fd = fs.openSync(`/proc/self/fd/${region.fd}`, 'r+');
    region.close();
    native.closeFd(fd);
    expect(() => fs.fstatSync(fd)).to.throw(/EBADF/);
    native.closeFd(fd);
  });

  const endWorker = async (ending: Ending): Promise<void> => {
    const abstract = abstractName();
    const socketPath = path.join(dir, `worker-${ending.replace(/\W/g, '-')}.sock`);
    const worker = new Worker(workerScript, {
      eval: true,
      workerData: {
        addon: addonFile(),
        abstract,
        path: socketPath,
        throwFromCallback: ending === 'uncaught exception',
      },
    });
    const messages: unknown[] = [];
    const errors: Error[] = [];
    let exitCode: number | undefined;
    worker.on('message', (message: unknown) => messages.push(message));
    worker.on('error', (error: Error) => errors.push(error));
    worker.on('exit', (code: number) => (exitCode = code));

    await until(
      () => messages.length > 0 || exitCode !== undefined,
      'the worker to open everything',
    );
    expect(errors, 'worker errors').to.deep.equal([]);
    expect(exitCode, 'worker exit code').to.equal(undefined);
    // listener x2, eventfd, region, client channel (its accepted peer may not be in yet)
    expect(messages[0]).to.have.property('live').that.is.at.least(5);
    expect(native.liveHandles(), 'the worker has its own registry').to.equal(live);
    expect(fs.statSync(socketPath).isSocket()).to.equal(true);

    // A channel from this thread into the worker: it must see EOF when the worker goes.
    const client = native.ControlChannel.connect(abstract);
    const ends: Array<Error | null> = [];
    client.start(
      () => {},
      (error) => ends.push(error),
    );
    await until(() => messages.filter((m) => m === 'accepted').length === 2, 'both accepts');

    if (ending === 'process.exit') worker.postMessage('exit');
    if (ending === 'terminate') await worker.terminate();
    if (ending === 'uncaught exception') worker.postMessage('signal');
    await until(() => exitCode !== undefined, 'the worker to exit');

    if (ending === 'uncaught exception') {
      expect(exitCode).to.equal(1);
      expect(errors.map((e) => e.message)).to.deep.equal(['boom in worker']);
    } else {
      expect(errors).to.deep.equal([]);
    }
    await until(() => ends.length === 1, 'EOF from the dead worker');
    expect(ends).to.deep.equal([null]);
    expect(client.closed).to.equal(true);
    expect(fs.existsSync(socketPath), 'teardown unlinked the socket file').to.equal(false);
    // The abstract name was released with the worker's socket.
    const again = native.ControlListener.listen(abstract, () => {}, () => {});
    again.close();
  };

  for (const ending of ['process.exit', 'terminate', 'uncaught exception'] as const) {
    it(`closes everything a worker left open when it ends by ${ending}`, async () => {
      await endWorker(ending);
    });
  }

  it('builds plain errors with code, errno and syscall where no factory is registered', async () => {
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const b = require(workerData.addon);
       try { b.ControlListener.listen(workerData.path, () => {}, () => {}); }
       catch (e) {
         parentPort.postMessage({ isError: e instanceof Error, name: e.name, message: e.message,
           code: e.code, errno: e.errno, syscall: e.syscall });
       }`,
      { eval: true, workerData: { addon: addonFile(), path: path.join(dir, 'missing', 'x.sock') } },
    );
    const message = await new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await new Promise((resolve) => worker.once('exit', resolve));
    expect(message).to.deep.equal({
      isError: true,
      name: 'Error',
      message: `bind(${path.join(dir, 'missing', 'x.sock')}): no such file or directory (ENOENT)`,
      code: 'ENOENT',
      errno: os.constants.errno.ENOENT,
      syscall: 'bind',
    });
    // This environment keeps its own factory.
    expect(() => native.ControlChannel.connect(path.join(dir, 'nothing.sock'))).to.throw(
      MemifError,
    );
  });

  it('turns an exception thrown by a callback into an uncaught exception', async () => {
    const name = abstractName();
    const run = await runChild(`
      const event = b.EventFd.create();
      const listener = b.ControlListener.listen(${JSON.stringify(name)}, (channel) => {
        channel.start(() => { throw new Error('boom from onFrame'); }, () => {});
        setTimeout(() => { channel.close(); listener.close(); client.close(); }, 50);
      }, () => {});
      const client = b.ControlChannel.connect(${JSON.stringify(name)});
      client.send(new Uint8Array(128));
      process.on('uncaughtException', (error) => {
        console.log('caught: ' + error.message);
        event.close();
      });
      event.watch(() => { throw new Error('boom from onSignal'); });
      event.signal();
    `);
    expect(run.signal).to.equal(null);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout.split('\n').sort()).to.deep.equal([
      '',
      'caught: boom from onFrame',
      'caught: boom from onSignal',
    ]);
  });

  it('exits with status 1, not an abort, on an unhandled callback exception', async () => {
    const run = await runChild(`
      const event = b.EventFd.create();
      event.watch(() => { throw new Error('unhandled boom'); });
      event.signal();
    `);
    expect(run.signal).to.equal(null);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.contain('unhandled boom');
  });

  it('lets a process whose objects are all closed exit by itself', async () => {
    const name = abstractName();
    const socketPath = path.join(dir, 'exit-by-itself.sock');
    const run = await runChild(
      `
      const listener = b.ControlListener.listen(${JSON.stringify(socketPath)}, (server) => {
        server.start((frame, fds) => {
          const region = b.Region.map(fds[0], 4096);
          const event = b.EventFd.create();
          event.watch((count) => {
            console.log('signal ' + count + ' byte ' + new Uint8Array(region.buffer)[7]);
            event.close();
            region.close();
            server.close();
            listener.close();
          });
          event.signal();
        }, () => {});
      }, () => {});
      const client = b.ControlChannel.connect(${JSON.stringify(socketPath)});
      const region = b.Region.create('r', 4096);
      new Uint8Array(region.buffer)[7] = 77;
      client.start(() => {}, (end) => console.log('client end ' + end));
      client.send(new Uint8Array(128), region.fd);
      // Closed only after the peer has it; the region stays valid for the server's mapping.
      region.close();
      setTimeout(() => { client.close(); console.log('live ' + b.liveHandles()); }, 100);
      // An abstract listener open and closed in the same tick leaves nothing behind either.
      b.ControlListener.listen(${JSON.stringify(name)}, () => {}, () => {}).close();
    `,
      [],
      8000,
    );
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.contain('signal 1 byte 77');
    expect(run.stdout).to.contain('live 0');
    expect(fs.existsSync(socketPath)).to.equal(false);
  });

  it('closes unreachable idle objects on GC but keeps a listening one alive', async () => {
    const name = abstractName();
    const run = await runChild(
      `
      const created = () => {
        b.Region.create('garbage', 4096);
        b.EventFd.create();
        let accepted = 0;
        b.ControlListener.listen(${JSON.stringify(name)}, (channel) => {
          accepted++;
          channel.close();
          console.log('accepted ' + accepted);
          process.exit(0);
        }, () => {});
      };
      created();
      const before = b.liveHandles();
      (async () => {
        for (let i = 0; i < 5; i++) {
          global.gc();
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        console.log('before ' + before + ' after ' + b.liveHandles());
        b.ControlChannel.connect(${JSON.stringify(name)});
      })();
    `,
      ['--expose-gc'],
    );
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.contain('before 3 after 1');
    expect(run.stdout).to.contain('accepted 1');
  });
});
