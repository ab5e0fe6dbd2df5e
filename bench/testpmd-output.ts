import { steadyRate } from './stats';

/**
 * testpmd's steady receive rate (packets/s) on one port, from the "NIC statistics for port N
 * ... Rx-pps: X" blocks that `--stats-period=1` prints every second.
 */
export const testpmdRxPps = (output: string, port = 0): number => {
  const perSecond: number[] = [];
  for (const m of output.matchAll(/NIC statistics for port (\d+)[^]*?Rx-pps:\s+(\d+)/g))
    if (Number(m[1]) === port) perSecond.push(Number(m[2]));
  return steadyRate(perSecond);
};
