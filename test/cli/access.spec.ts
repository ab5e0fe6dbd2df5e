import { expect } from 'chai';
import * as path from 'node:path';
import { UsageError, interfaceOptions, parse } from '../../src/cli/args';
import { AS_USER_TAG, NOBODY, sharedDir } from '../helpers/as-user';
import { runCli } from '../helpers/cli';
import type { CliRun } from '../helpers/cli';

type Json = Record<string, unknown>;
const states = (lines: Json[]): Json[] =>
  lines.filter((l) => l.event === 'state').map((l) => l.state as Json);

/**
 * Issue #16's scenario on the command line: `rx-memif echo --role server --socket S
 * --socket-mode 0666 --allow-uid 0` refuses `rx-memif connect` run as nobody (never connected,
 * the reason names uid 65534) and accepts it run as root, showing `"uid":0` and its pid. The
 * children run from the world-readable sandbox of test/helpers/as-user.ts.
 */
describe('cli: --socket-mode and --allow-uid', function () {
  this.timeout(60000);
  const ROOT = { uid: 0, gid: 0 };
  let dir = '';
  let cleanup: () => void = () => undefined;
  let children: CliRun[] = [];

  beforeEach(() => {
    ({ dir, cleanup } = sharedDir());
  });
  afterEach(async () => {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children);
    children = [];
    cleanup();
  });

  const cli = (args: string[], as: { uid: number; gid: number }): CliRun => {
    const c = runCli(args, {}, as);
    children.push(c);
    return c;
  };

  it(`echo --allow-uid 0 refuses connect as nobody and accepts it as root ${AS_USER_TAG}`, async function () {
    if (process.getuid?.() !== 0) {
      console.log('      (skipped: needs root to run a child as nobody)');
      this.skip();
    }
    const socket = path.join(dir, 'S');
    const server = ['echo', '--role', 'server', '--socket', socket, '--json'];
    const echo = cli([...server, '--socket-mode', '0666', '--allow-uid', '0'], ROOT);
    await echo.waitForLine(/"listening"/);

    const connect = ['connect', '--socket', socket, '--json', '--secs', '2'];
    const stranger = await cli(connect, NOBODY);
    expect(stranger.code, stranger.stderr).to.equal(1); // not connected at the end
    const theirs = states(stranger.json());
    expect(theirs.map((s) => s.status)).to.not.include('connected');
    const refusal = theirs.find((s) => s.status === 'disconnected');
    expect(refusal?.reason).to.match(/uid 65534 not allowed/);
    await echo.waitForLine(/"reason":"peer uid 65534 not allowed/);

    const admin = cli(connect, ROOT);
    const line = await admin.waitForLine(/"status":"connected"/);
    const ours = (JSON.parse(line) as Json).state as Json;
    expect(ours.peer).to.include({ uid: 0, pid: echo.pid });
    const seen = await echo.waitForLine(/"status":"connected"/);
    const echoSide = (JSON.parse(seen) as Json).state as Json;
    expect(echoSide.peer).to.include({ uid: 0, pid: admin.pid });
    expect(seen).to.include('"uid":0');
    expect((await admin).code).to.equal(0);
  });

  it('--socket-mode takes octal bits, --allow-uid/--allow-gid repeat: anything else is a usage error', () => {
    const options = (args: string[]) => interfaceOptions(parse(args, {}).values);
    expect(
      options([
        '--socket-mode',
        '0660',
        '--socket-group',
        'nogroup',
        '--allow-uid',
        '0',
        '--allow-uid',
        '1000',
        '--allow-gid',
        '65534',
      ]),
    ).to.deep.include({
      socketMode: 0o660,
      socketGroup: 'nogroup',
      allowUids: [0, 1000],
      allowGids: [65534],
    });
    expect(options(['--socket-mode', '0o600', '--socket-group', '65534'])).to.deep.include({
      socketMode: 0o600,
      socketGroup: 65534,
    });
    for (const bad of [
      ['--socket-mode', '0899'],
      ['--socket-mode', 'rw'],
      ['--allow-uid', '-1'],
      ['--allow-gid', 'root'],
    ])
      expect(() => options(bad), bad.join(' ')).to.throw(UsageError, new RegExp(bad[0]));
  });
});
