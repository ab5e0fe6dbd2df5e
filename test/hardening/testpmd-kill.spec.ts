import * as fs from 'node:fs';
import * as path from 'node:path';
import { memif } from '../../src/index';
import { Testpmd, requireTestpmd } from '../helpers/testpmd';
import type { TestpmdOptions } from '../helpers/testpmd';
import { useHardening } from './fixture';
import { runKillCampaign, serverStaysListening } from './kill-campaign';
import type { RoundPeer } from './kill-campaign';
import { envCount } from './prng';

/**
 * Issue #7 item 3, the peer that dies, with DPDK 22.11's dpdk-testpmd as the peer, in either
 * role, forwarding everything our interface sends flat out back to it. testpmd is killed with
 * SIGKILL mid-burst, then started again, HARDENING_TESTPMD_KILLS times (100 by default).
 * See kill-campaign.ts for what each round and the end check.
 */
describe('hardening: dpdk-testpmd killed with SIGKILL mid-burst, again and again', function () {
  const kills = envCount('HARDENING_TESTPMD_KILLS', 100);
  // A round takes well under a second here; the machine is shared and loaded, so allow more.
  this.timeout(Math.max(180_000, kills * 5000));
  const { dir } = useHardening();
  before(function () {
    requireTestpmd(this);
  });

  /** A testpmd quick to start and to die: a round takes half as long (see `mlockall`). */
  const testpmd = (options: TestpmdOptions): RoundPeer => {
    const t = new Testpmd({ memoryMb: 256, mlockall: false, ...options });
    return {
      ready: () => (options.role === 'server' ? t.ready() : Promise.resolve()),
      kill: async () => {
        await t.kill();
        await t.closed;
      },
      tail: () => t.tail(),
    };
  };

  it(`our client survives ${kills} kills of a testpmd server (io)`, async () => {
    const socket = path.join(dir(), 'memif.sock');
    await runKillCampaign({
      name: 'testpmd server (forward mode io)',
      kills,
      ours: () => memif({ role: 'client', socket, retry: { initialMs: 20 } }),
      start: () => testpmd({ role: 'server', socket, forwardMode: 'io' }),
      // A killed testpmd server leaves its socket file behind, and a new one cannot listen
      // while it is there (docs/interop.md#stale-socket-files).
      afterRound: () => fs.rmSync(socket, { force: true }),
    });
  });

  it(`our server survives ${kills} kills of a testpmd client (macswap), on one socket file`, async () => {
    const socket = path.join(dir(), 'memif.sock');
    await runKillCampaign({
      name: 'testpmd client (forward mode macswap)',
      kills,
      ours: () => memif({ role: 'server', socket }),
      start: () => testpmd({ role: 'client', socket, forwardMode: 'macswap' }),
      afterRound: serverStaysListening(socket),
    });
  });
});
