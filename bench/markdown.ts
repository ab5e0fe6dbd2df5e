/** A Markdown table: one header row, a rule, the rows (cells are written as given). */
export const markdownTable = (
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string[] => [
  `| ${header.join(' | ')} |`,
  `| ${header.map(() => '---').join(' | ')} |`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
];

/** Mpps with two decimals, or `—` for a figure that was not measured. */
export const mpps = (pps: number | undefined): string =>
  pps === undefined ? '—' : (pps / 1e6).toFixed(2);

/** A ratio with two decimals, or `n/a` (no usable reference in any round). */
export const ratioText = (r: number | undefined): string =>
  r === undefined ? 'n/a' : r.toFixed(2);
