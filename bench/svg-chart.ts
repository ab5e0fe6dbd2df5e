import { TARGETS, measuredText, targetText, verdict } from './targets';
import type { Measured, Verdict } from './targets';

/** One bar: a measured ratio against its target (a figure not measured draws no bar). */
export interface Bar {
  readonly label: string;
  readonly value: number | undefined;
  readonly target: number;
  readonly verdict: Verdict;
  /** The text at the end of the bar, e.g. `0.31 (≥ 1.2)`. */
  readonly note: string;
}

/** The ratio targets (latency and GC share are in µs and %, so they stay in the table). */
export const chartBars = (measured: Measured): Bar[] =>
  TARGETS.filter((t) => t.unit === 'ratio').map((t) => ({
    label: (t.chart ?? t.workload).replace(/`/g, ''),
    value: measured[t.key],
    target: t.value,
    verdict: verdict(t, measured[t.key]),
    note: `${measuredText(t, measured[t.key])} (${targetText(t)})`,
  }));

const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const COLOURS: Record<Verdict, string> = {
  met: '#2e7d32',
  missed: '#c62828',
  'not run': '#9e9e9e',
};

/** Wide enough for the chart labels of targets.ts at 12 px (about 7 px a character). */
export const LABEL_W = 340;
const PLOT_W = 340;
const NOTE_W = 110;
const ROW_H = 26;
const TOP = 44;
const BOTTOM = 34;

/**
 * A horizontal bar chart, hand-written SVG: one row per workload, the bar its ratio to
 * testpmd↔testpmd (green met, red missed), a black tick at its target, a dashed line at 1.0
 * (as fast as testpmd). The scale ends at the next 0.5 above every bar and target.
 */
export const renderChart = (bars: readonly Bar[], title: string): string => {
  const width = LABEL_W + PLOT_W + NOTE_W;
  const height = TOP + bars.length * ROW_H + BOTTOM;
  const top = Math.max(1, ...bars.map((b) => Math.max(b.target, b.value ?? 0)));
  const max = Math.ceil((top * 1.05) / 0.5) * 0.5;
  const x = (v: number) => LABEL_W + (Math.max(0, v) / max) * PLOT_W;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="8" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  const plotBottom = TOP + bars.length * ROW_H;
  for (let v = 0; v <= max + 1e-9; v += 0.5) {
    const gx = x(v).toFixed(1);
    out.push(
      `<line x1="${gx}" y1="${TOP - 6}" x2="${gx}" y2="${plotBottom}" stroke="#e0e0e0"/>`,
      `<text x="${gx}" y="${plotBottom + 16}" text-anchor="middle" fill="#555">${v.toFixed(1)}</text>`,
    );
  }
  const one = x(1).toFixed(1);
  out.push(
    `<line x1="${one}" y1="${TOP - 6}" x2="${one}" y2="${plotBottom}" stroke="#555" stroke-dasharray="4 3"/>`,
    `<text x="${LABEL_W + PLOT_W / 2}" y="${height - 4}" text-anchor="middle" fill="#555">ratio to testpmd↔testpmd, same run (dashed: 1.0; black tick: target)</text>`,
  );
  bars.forEach((b, i) => {
    const y = TOP + i * ROW_H;
    out.push(
      `<text x="${LABEL_W - 8}" y="${y + 13}" text-anchor="end">${escapeXml(b.label)}</text>`,
    );
    if (b.value !== undefined && !Number.isNaN(b.value)) {
      const w = Math.max(1, x(b.value) - LABEL_W);
      out.push(
        `<rect x="${LABEL_W}" y="${y + 2}" width="${w.toFixed(1)}" height="14" fill="${COLOURS[b.verdict]}"/>`,
      );
    }
    const tx = x(b.target).toFixed(1);
    out.push(
      `<line x1="${tx}" y1="${y - 1}" x2="${tx}" y2="${y + 19}" stroke="#000" stroke-width="2"/>`,
      `<text x="${LABEL_W + PLOT_W + 6}" y="${y + 13}" fill="${COLOURS[b.verdict]}">${escapeXml(b.note)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
};
