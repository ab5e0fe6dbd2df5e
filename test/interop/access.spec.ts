import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { useInterop } from '../helpers/interop';
import { waitForState } from '../helpers/states';

/**
 * Issue #16 with DPDK's net_memif: testpmd (run as root, like its usual deployment next to us)
 * still connects through a restricted socket file and an allow-list, in both roles, and our
 * `connected` state names the testpmd process.
 */
describe('interop: socket mode and allow-lists with dpdk-testpmd', function () {
  this.timeout(60000);
  const live = useInterop(200);
  const uid = process.getuid?.() ?? 0;

  it('a testpmd client reaches our server through socketMode 0600 and allowUids', async () => {
    const socket = path.join(live.dir, 'memif.sock');
    const server = live.ours({ role: 'server', socket, socketMode: 0o600, allowUids: [uid] });
    expect((fs.statSync(socket).mode & 0o777).toString(8)).to.equal('600');
    await waitForState(server, 'listening');
    const peer = live.testpmd({ role: 'client', socket });
    const up = await waitForState(server, 'connected');
    expect(up.peer).to.include({ uid, pid: peer.pid });
    await peer.waitFor(/memif_connect\(\): Connected\./);
  });

  it('our client with allowUids connects to a testpmd server and names its process', async () => {
    const socket = path.join(live.dir, 'memif.sock');
    const peer = live.testpmd({ role: 'server', socket });
    await peer.ready();
    const client = live.ours({ role: 'client', socket, allowUids: [uid] });
    const up = await waitForState(client, 'connected');
    expect(up.peer).to.include({ uid, pid: peer.pid });
    expect(client.stats().refusedPeers).to.equal(0);
  });
});
