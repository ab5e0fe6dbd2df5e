import { expect } from 'chai';
import { waitForState } from '../helpers/states';
import { SequenceChecker, genFrames, totals, until, useInterfaces, within } from './fixture';

describe('streams: peer dies mid-burst (in one process)', () => {
  const { pair, make } = useInterfaces();

  for (const dying of ['server', 'client'] as const) {
    it(`the ${dying} closes while the other side sends flat out: no crash, disconnected, then traffic again`, async () => {
      const N = 300_000;
      const { server, client, socket } = await pair({ lossless: true }, { lossless: true });
      const [sender, receiver] = dying === 'server' ? [client, server] : [server, client];
      let got = 0;
      receiver.rx().subscribe(() => got++);
      const sending = sender.send(genFrames(N, 64));
      await until(
        () => got >= 20000,
        5000,
        () => `receiver got ${got}`,
      );
      await receiver.close();
      const down = await waitForState(sender, 'disconnected', 3000);
      expect(down.by).to.equal('peer');
      // send() keeps pulling: what could not go out is counted, nothing vanishes.
      expect(await within(sending, 10000, () => 'send() did not settle')).to.equal(N);
      const s = totals(sender.stats(), 'tx');
      expect(s.packets + (s.drops.linkDown ?? 0), 'sent + linkDown').to.equal(N);
      expect(s.drops.linkDown ?? 0).to.be.greaterThan(0);
      expect(got).to.be.at.most(s.packets);

      // A new peer on the same socket: the survivor carries traffic again, in order, intact.
      const again = make({ role: dying, socket, lossless: true });
      await Promise.all([
        waitForState(sender, 'connected', 5000),
        waitForState(again, 'connected'),
      ]);
      const checker = new SequenceChecker(5000, 64);
      again.rx().subscribe((f) => checker.check(f));
      await sender.send(genFrames(5000, 64));
      await within(checker.done, 5000, () => `new peer got ${checker.next}`);
      checker.assertComplete();
      expect(totals(sender.stats(), 'tx').packets).to.equal(s.packets + 5000);
    });
  }

  for (const zeroCopyRx of [false, true]) {
    it(`closing an interface from inside its own rx emission is safe (zeroCopyRx: ${zeroCopyRx})`, async () => {
      const { server, client } = await pair({ zeroCopyRx }, { lossless: true });
      let seen = 0;
      let afterClose = 0;
      let lengthAfterClose = -1;
      let closing: Promise<void> | undefined;
      // rx(): the subscriber closes the interface on its 1000th packet, mid-burst.
      server.rx().subscribe(() => {
        if (closing) afterClose++;
        else if (++seen === 1000) closing = server.close();
      });
      // rxBursts(): a subscriber that keeps reading the burst after the close.
      server.rxBursts().subscribe((b) => {
        if (closing && lengthAfterClose < 0) lengthAfterClose = b.packet(b.count - 1).length;
      });
      const sending = client.send(genFrames(50000, 64));
      await until(
        () => closing !== undefined,
        5000,
        () => `seen ${seen}`,
      );
      await closing;
      await waitForState(client, 'disconnected', 3000);
      await within(sending, 5000, () => 'send() did not settle');
      // In copy mode the burst is JS memory (still readable); in zero-copy mode the region is
      // unmapped with the close: the rest of the burst is not delivered, views are empty.
      if (zeroCopyRx) {
        expect(afterClose, 'packets delivered after close').to.equal(0);
        expect(lengthAfterClose).to.equal(0);
      } else expect(lengthAfterClose).to.equal(64);
      const s = totals(client.stats(), 'tx');
      expect(s.packets + (s.drops.linkDown ?? 0)).to.equal(50000);
    });
  }
});
