/**
 * One line of `node --trace-gc` (V8's format in Node 20), e.g.
 *   [pid:0x...]   429 ms: Mark-Compact 153.2 (182.6) -> 27.6 (61.7) MB, 12.54 / 0.01 ms
 *   (+ 3.1 ms in 3 steps since start of marking, ...) ...
 * as the GC time it reports: the pause plus the incremental marking steps done before it.
 * Undefined for any other line. Used for the `rx-memif` children, whose GC this process
 * cannot observe.
 */
export const traceGcMs = (line: string): { ms: number; major: boolean } | undefined => {
  const m = line.match(
    /\d+ ms: ([A-Za-z -]+?) [\d.]+ \([\d.]+\) -> [\d.]+ \([\d.]+\) MB, ([\d.]+) \/ [\d.]+ ms(?:\s+\(\+ ([\d.]+) ms in)?/,
  );
  if (!m) return undefined;
  return {
    ms: Number(m[2]) + Number(m[3] ?? 0),
    major: /Mark-Compact|Mark-sweep/.test(m[1]) && !/Minor/.test(m[1]),
  };
};
