import { expect } from 'chai';
import { WORKERS, emptyResults, resultTables } from '../../bench/report';

describe('bench report: the workers rows', () => {
  it('gives each variant its Mpps and ratio, and each thread its CPU ns per packet over all rounds', () => {
    const r = emptyResults();
    r.workers.series = {
      reference: [4e6, 4e6],
      ours: {
        [WORKERS.main]: [1e6, 1e6],
        [WORKERS.one]: [0.9e6, 0.9e6],
        [WORKERS.two]: [2e6, 2e6],
      },
    };
    const worker = (thread: string, packets: number, cpuMs: number) => ({
      thread,
      packets,
      cpuMs,
      nsPerPacket: (cpuMs * 1e6) / packets,
    });
    r.workers.threads.push(
      { variant: WORKERS.two, threads: [worker('main', 2e6, 100), worker('0', 1e6, 300)] },
      { variant: WORKERS.two, threads: [worker('main', 2e6, 100), worker('0', 1e6, 500)] },
    );
    const text = resultTables(r).join('\n');
    expect(text).to.contain('| 4.00 | 1.00 (0.25) | 0.90 (0.23) | 2.00 (0.50) |');
    // 800 ms over 2e6 packets: 400 ns each; the main thread 200 ms over 4e6: 50 ns.
    expect(text).to.contain(`| ${WORKERS.two} | worker 0 | 2000000 | 800 | 400 |`);
    expect(text).to.contain(`| ${WORKERS.two} | main | 4000000 | 200 | 50 |`);
  });
});
