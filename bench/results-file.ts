import * as fs from 'node:fs';
import * as path from 'node:path';

/** bench/RESULTS.md: generated sections between markers; everything else is hand-written. */
export const RESULTS_FILE = path.join(__dirname, 'RESULTS.md');

const markers = (name: string) => [`<!-- ${name}:begin -->`, `<!-- ${name}:end -->`] as const;

/**
 * Replaces the generated section `name` (appending it when absent), leaving the hand-written
 * text around it alone, so that a new `npm run bench` keeps the analysis and the soak record.
 */
export const writeSection = (name: string, lines: readonly string[], file = RESULTS_FILE): void => {
  const [begin, end] = markers(name);
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const block = [begin, ...lines, end].join('\n');
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  const next =
    from >= 0 && to > from
      ? text.slice(0, from) + block + text.slice(to + end.length)
      : `${text.trimEnd()}${text ? '\n\n' : ''}${block}\n`;
  fs.writeFileSync(file, next);
};
