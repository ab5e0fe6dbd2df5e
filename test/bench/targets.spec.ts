import { expect } from 'chai';
import { TARGETS, measuredText, targetText, targetsTable, verdict } from '../../bench/targets';
import type { Target } from '../../bench/targets';

const target = (key: Target['key']): Target => TARGETS.find((t) => t.key === key)!;

describe('bench targets', () => {
  it('judges at-least, at-most and under targets, including the boundary', () => {
    const rt = target('roundTripBurstServer');
    expect(verdict(rt, 1.2)).to.equal('met');
    expect(verdict(rt, 1.19)).to.equal('missed');
    const lat = target('latencyMedian');
    expect(verdict(lat, 3.0)).to.equal('met');
    expect(verdict(lat, 3.01)).to.equal('missed');
    const gc = target('gcShare');
    expect(verdict(gc, 4.9)).to.equal('met');
    expect(verdict(gc, 5)).to.equal('missed');
    expect(verdict(gc, undefined)).to.equal('not run');
    expect(verdict(gc, NaN)).to.equal('not run');
  });

  it('covers every target of the issue, each role and copy / per-packet on its own row', () => {
    expect(TARGETS.map((t) => t.key)).to.have.members([
      'roundTripBurstServer',
      'roundTripBurstClient',
      'roundTripPacketServer',
      'roundTripPacketClient',
      'oneWayCopy64',
      'oneWayPacket64',
      'oneWayCopy1500',
      'twoProcesses',
      'overload',
      'latencyMedian',
      'gcShare',
    ]);
    expect(targetText(target('oneWayPacket64'))).to.equal('≥ 0.7');
    expect(targetText(target('latencyMedian'))).to.equal('≤ 3.0');
    expect(targetText(target('gcShare'))).to.equal('< 5 %');
    expect(measuredText(target('gcShare'), 1.234)).to.equal('1.2 %');
    expect(measuredText(target('overload'), 0.0712)).to.equal('0.07');
  });

  it('writes the table with the measured value and the verdict', () => {
    const lines = targetsTable({ roundTripBurstClient: 1.31, oneWayCopy64: 0.5 });
    expect(lines[0]).to.equal('| workload | issue 11 "now" | target | measured |  |');
    expect(lines).to.have.length(2 + TARGETS.length);
    expect(lines).to.include(
      '| round trip, burst API, rx-memif reflecting as client | 0.05 | ≥ 1.2 | 1.31 | met |',
    );
    expect(lines).to.include('| one way, copy mode (default) | 0.38 | ≥ 1.0 | 0.50 | missed |');
    expect(lines).to.include(
      '| round trip, burst API, rx-memif reflecting as server | 0.05 | ≥ 1.2 | — | not run |',
    );
  });
});
