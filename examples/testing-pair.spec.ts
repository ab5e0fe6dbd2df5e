// Integration-testing protocol logic on a real memif pair in this process (needs the native addon).
// Run: npx mocha --no-config -r ts-node/register/transpile-only examples/testing-pair.spec.ts
import { expect } from 'chai';
import { filter, firstValueFrom, take, toArray } from 'rxjs';
// In your project: from 'rx-memif/testing'.
import { connectedPair, ethernet, hex } from '../src/testing';
import { ETHERTYPE, PING, PONG, respond } from './ping-responder';

const ME = '02:fe:00:00:00:01';
const PEER = '02:fe:00:00:00:02';

describe('example: a ping responder on a real memif pair', () => {
  it('answers the pings of the other side', async () => {
    // Closed (both sides, and the temporary socket) when the block ends, even on failure.
    await using pair = await connectedPair();
    respond(pair.server, ME);

    const pongs = firstValueFrom(
      pair.client.rx().pipe(
        filter((f) => f[14] === PONG),
        take(3),
        toArray(),
      ),
    );
    for (const seq of [1, 2, 3])
      pair.client
        .tx()
        .next(ethernet({ dst: ME, src: PEER, type: ETHERTYPE, payload: [PING, seq] }));

    expect((await pongs).map((f) => hex(f))).to.deep.equal(
      [1, 2, 3].map((seq) =>
        hex(ethernet({ dst: PEER, src: ME, type: ETHERTYPE, payload: [PONG, seq] })),
      ),
    );
  });
});
