import { expect } from 'chai';
import {
  CORRUPT,
  FOREIGN,
  GenBatch,
  MAX_GEN_SIZE,
  MIN_GEN_SIZE,
  SequenceCheck,
  checkGenAt,
  checkGenFrame,
  genSize,
  writeGenFrame,
} from '../../src/cli/frames';

const RUN = 0x5eed1234;
const SRC = [2, 0xfe, 0, 0, 0, 1];

const frame = (seq: number, size: number, runId = RUN): Uint8Array => {
  const f = new Uint8Array(size);
  writeGenFrame(f, size, seq, runId, SRC);
  return f;
};

/** Feeds frames to a check, each alone in its buffer. */
const feed = (check: SequenceCheck, frames: Uint8Array[], queue = 0): void => {
  for (const f of frames) check.take(f, 0, f.length, queue);
};

describe('cli: gen frames (frames.ts)', () => {
  it('round-trips every size from 34 to 262144, at any sequence number up to 2^40', () => {
    for (const size of [MIN_GEN_SIZE, 35, 64, 1500, 9000, 65536 + 100, MAX_GEN_SIZE])
      for (const seq of [0, 1, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 40 - 1])
        expect(checkGenFrame(frame(seq, size), RUN)).to.deep.equal({ kind: 'ok', seq });
  });

  it('writes at an offset into a pool, leaving the rest untouched', () => {
    const pool = new Uint8Array(300).fill(0xaa);
    writeGenFrame(pool, 100, 7, RUN, SRC, 150);
    expect(checkGenFrame(pool.subarray(150, 250), RUN)).to.deep.equal({ kind: 'ok', seq: 7 });
    expect(pool.subarray(0, 150).every((b) => b === 0xaa)).to.equal(true);
    expect(pool.subarray(250).every((b) => b === 0xaa)).to.equal(true);
  });

  it('GenBatch writes the frames writeGenFrame writes, batch after batch, sizes mixed', () => {
    const batch = new GenBatch(8, 200, 60, RUN, SRC);
    for (const seq of [0, 8, 2 ** 32 - 3]) {
      const b = batch.fill(seq === 8 ? 8 : 5, seq);
      expect(b.count).to.equal(seq === 8 ? 8 : 5);
      for (let i = 0; i < b.count; i++) {
        const size = genSize(seq + i, 60, 200);
        expect(b.lengths[i]).to.equal(size);
        expect([...b.packet(i)]).to.deep.equal([...frame(seq + i, size)]);
        expect(checkGenAt(b.data, b.offsets[i], b.lengths[i], RUN)).to.equal(seq + i);
      }
    }
  });

  it('checkGenAt: sequence number, FOREIGN or CORRUPT, with or without a DataView of the data', () => {
    const data = new Uint8Array(400);
    writeGenFrame(data, 64, 5, RUN, SRC, 10);
    writeGenFrame(data, 200, 6, RUN, SRC, 100);
    const v = new DataView(data.buffer);
    expect(checkGenAt(data, 10, 64, RUN, v)).to.equal(5);
    expect(checkGenAt(data, 100, 200, RUN)).to.equal(6);
    expect(checkGenAt(data, 10, 64, RUN + 1, v)).to.equal(FOREIGN);
    expect(checkGenAt(data, 100, 400, RUN)).to.equal(FOREIGN); // past the end of the data
    data[100 + 150] ^= 1;
    expect(checkGenAt(data, 100, 200, RUN, v)).to.equal(CORRUPT);
  });

  it('writes only what fits into a short buffer', () => {
    const short = new Uint8Array(50);
    writeGenFrame(short, 64, 9, RUN, SRC);
    expect([...short]).to.deep.equal([...frame(9, 64).subarray(0, 50)]);
    writeGenFrame(short, 64, 9, RUN, SRC, 60); // nothing fits
  });

  it('catches any single changed byte from byte 12 on (bytes 0..11, the MACs, are not checked)', () => {
    // 35..42 and 64: every tail of the word-wise check; 162 / 163: its largest, the native one.
    for (const size of [MIN_GEN_SIZE, 35, 36, 37, 38, 39, 40, 41, 42, 64, 162, 163, 9000]) {
      const good = frame(123456, size);
      for (let i = 0; i < size; i++)
        for (const flip of [0x01, 0x80]) {
          const f = good.slice();
          f[i] ^= flip;
          const v = checkGenFrame(f, RUN);
          // A changed sequence number may read as another intact frame: the sequence check
          // (below) catches that one.
          const caught = v.kind !== 'ok' || v.seq !== 123456;
          expect(caught, `size ${size}, byte ${i} ^ ${flip}`).to.equal(i >= 12);
        }
    }
  });

  it('writes a short filler word-wise as the same slice of the pattern as the native copy', () => {
    // Fillers up to 128 bytes are written in words, longer ones by Buffer.copy: for one sequence
    // number both start at the same place in the pattern.
    for (const seq of [0, 77, 2 ** 32 + 5]) {
      const long = frame(seq, MIN_GEN_SIZE + 129).subarray(MIN_GEN_SIZE);
      for (let n = 1; n <= 128; n++)
        expect(
          [...frame(seq, MIN_GEN_SIZE + n).subarray(MIN_GEN_SIZE)],
          `${n} bytes`,
        ).to.deep.equal([...long.subarray(0, n)]);
    }
  });

  it('calls a frame of another run, another EtherType or too short foreign', () => {
    expect(checkGenFrame(frame(1, 64, RUN + 1), RUN).kind).to.equal('foreign');
    const f = frame(1, 64);
    f[13] ^= 1;
    expect(checkGenFrame(f, RUN).kind).to.equal('foreign');
    expect(checkGenFrame(frame(1, 64).subarray(0, 33), RUN).kind).to.equal('foreign');
  });

  it('calls a truncated or padded frame corrupt (the size field no longer matches)', () => {
    expect(checkGenFrame(frame(3, 200).subarray(0, 199), RUN).kind).to.equal('corrupt');
    const padded = new Uint8Array(201);
    padded.set(frame(3, 200));
    expect(checkGenFrame(padded, RUN).kind).to.equal('corrupt');
  });

  it('genSize: the same size for the same sequence number, uniform over A..B', () => {
    const counts = new Map<number, number>();
    let sum = 0;
    const n = 200_000;
    let outside = 0;
    for (let seq = 0; seq < n; seq++) {
      const s = genSize(seq, 64, 9000);
      if (s < 64 || s > 9000 || !Number.isInteger(s)) outside++;
      sum += s;
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    expect(outside).to.equal(0);
    expect(genSize(12345, 64, 9000)).to.equal(genSize(12345, 64, 9000));
    expect(sum / n).to.be.closeTo((64 + 9000) / 2, 30);
    expect(counts.has(64) && counts.has(9000), 'both ends occur').to.equal(true);
    expect(genSize(99, 1500, 1500)).to.equal(1500);
    const small = new Set(Array.from({ length: 1000 }, (_, seq) => genSize(seq, 64, 65)));
    expect([...small].sort()).to.deep.equal([64, 65]);
  });
});

describe('cli: sink --check accounting (SequenceCheck)', () => {
  it('an intact run: all received, nothing else counted, the run id from the first frame', () => {
    const check = new SequenceCheck();
    feed(
      check,
      Array.from({ length: 100 }, (_, seq) => frame(seq, genSize(seq, 64, 2000))),
    );
    expect(check.runId).to.equal(RUN);
    expect(check.accounted).to.equal(100);
    let bytes = 0;
    for (let seq = 0; seq < 100; seq++) bytes += genSize(seq, 64, 2000);
    expect(check.finish(100)).to.deep.equal({
      received: 100,
      lost: 0,
      corrupt: 0,
      outOfOrder: 0,
      foreign: 0,
      bytes,
    });
  });

  it('counts a gap as lost, a repeat or a step back as out of order', () => {
    const check = new SequenceCheck();
    feed(
      check,
      [0, 1, 5, 5, 2, 6].map((seq) => frame(seq, 64)),
    );
    expect(check.finish(7)).to.deep.include({ received: 4, lost: 3, outOfOrder: 2, corrupt: 0 });
  });

  it('a damaged payload is corrupt and takes its place; a damaged sequence number shows as a gap', () => {
    const check = new SequenceCheck();
    const damaged = frame(1, 300);
    damaged[299] ^= 0xff;
    const badSeq = frame(3, 300);
    badSeq[26] ^= 0x40; // seq 3 now reads 2^30 + 3, whose filler differs
    feed(check, [frame(0, 300), damaged, frame(2, 300), badSeq, frame(4, 300)]);
    expect(check.finish(5)).to.deep.include({ received: 3, corrupt: 2, lost: 1, outOfOrder: 0 });
  });

  it('counts frames of other runs and other traffic as foreign, outside the sequence', () => {
    const check = new SequenceCheck();
    const other = new Uint8Array(60);
    other[12] = 0x08; // IPv4
    feed(check, [frame(0, 64), frame(1, 64, RUN ^ 1), other, frame(1, 64)]);
    expect(check.finish(2)).to.deep.include({ received: 2, foreign: 2, lost: 0 });
  });

  it('keeps one sequence per queue; finish counts what never came as lost', () => {
    const check = new SequenceCheck();
    feed(check, [frame(0, 64), frame(1, 64)], 0);
    feed(check, [frame(0, 64), frame(2, 64)], 1);
    expect(check.accounted).to.equal(5);
    expect(check.finish(8)).to.deep.include({ received: 4, lost: 1 + 3, outOfOrder: 0 });
  });

  it('checks frames laid out in a shared buffer (a receive burst)', () => {
    const data = new Uint8Array(1000);
    writeGenFrame(data, 100, 0, RUN, SRC, 0);
    writeGenFrame(data, 400, 1, RUN, SRC, 100);
    writeGenFrame(data, 64, 2, RUN, SRC, 500);
    const check = new SequenceCheck();
    check.take(data, 0, 100);
    check.take(data, 100, 400);
    check.take(data, 500, 64);
    expect(check.finish(3)).to.deep.include({ received: 3, lost: 0, corrupt: 0, bytes: 564 });
  });
});
