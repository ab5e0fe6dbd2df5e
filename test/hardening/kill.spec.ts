import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { memif } from '../../src/index';
import { childEnv, compiledSources, useHardening } from './fixture';
import { runKillCampaign, serverStaysListening } from './kill-campaign';
import type { RoundPeer } from './kill-campaign';
import { envCount } from './prng';

/**
 * Issue #7 item 3, the peer that dies, with our own CLI as the peer: `rx-memif echo` in a child
 * process, in either role, while our interface in this process sends flat out. The child is
 * killed with SIGKILL mid-burst, then started again, HARDENING_KILLS times (100 by default).
 * See kill-campaign.ts for what each round and the end check.
 */
describe('hardening: our own echo child killed with SIGKILL mid-burst, again and again', function () {
  const kills = envCount('HARDENING_KILLS', 100);
  // A round takes ~0.2 s here; the machine is shared and loaded, so allow far more.
  this.timeout(Math.max(180_000, kills * 3000));
  const { dir } = useHardening();
  let main = '';
  // Transpiled before any baseline is taken: it grows the heap once.
  before(() => (main = path.join(compiledSources(), 'src/cli/main.js')));

  /** `rx-memif echo` as plain JS (ts-node would cost each child over a second). */
  const echoChild = (role: 'server' | 'client', socket: string): RoundPeer => {
    const child = spawn(process.execPath, [main, 'echo', '--role', role, '--socket', socket], {
      env: childEnv(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    return {
      kill: async () => {
        child.kill('SIGKILL');
        await closed;
        // Anything else means it had died on its own before: that is a failure of its own.
        expect(child.signalCode, `how the child ended; stderr: ${stderr}`).to.equal('SIGKILL');
      },
      tail: () => {
        const how = child.signalCode ?? child.exitCode;
        return `child ${child.pid} ${how === null ? 'running' : `ended (${how})`}; stderr: ${stderr}`;
      },
    };
  };

  it(`our client survives ${kills} kills of a flat-out echo server`, async () => {
    const socket = path.join(dir(), 'echo.sock');
    await runKillCampaign({
      name: 'rx-memif echo server (child)',
      kills,
      ours: () => memif({ role: 'client', socket, retry: { initialMs: 20 } }),
      start: () => echoChild('server', socket),
    });
  });

  it(`our server survives ${kills} kills of a flat-out echo client, on one socket file`, async () => {
    const socket = path.join(dir(), 'echo.sock');
    await runKillCampaign({
      name: 'rx-memif echo client (child)',
      kills,
      ours: () => memif({ role: 'server', socket }),
      start: () => echoChild('client', socket),
      afterRound: serverStaysListening(socket),
    });
  });
});
