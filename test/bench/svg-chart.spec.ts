import { expect } from 'chai';
import { LABEL_W, chartBars, renderChart } from '../../bench/svg-chart';
import { TARGETS } from '../../bench/targets';

const rects = (svg: string) => [
  ...svg.matchAll(/<rect x="(\d+)" y="[\d.]+" width="([\d.]+)" height="14" fill="(#[0-9a-f]+)"/g),
];

describe('bench chart (SVG)', () => {
  it('has one bar per measured ratio target, coloured by verdict, scaled to a common axis', () => {
    const bars = chartBars({ roundTripBurstServer: 1.5, roundTripBurstClient: 0.3 });
    expect(bars).to.have.length(TARGETS.filter((t) => t.unit === 'ratio').length);
    const svg = renderChart(bars, 'a <title> & more');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).to.equal(true);
    expect(svg.trimEnd().endsWith('</svg>')).to.equal(true);
    expect(svg).to.include('a &lt;title&gt; &amp; more');
    const drawn = rects(svg);
    expect(drawn).to.have.length(2);
    expect(drawn[0][3]).to.equal('#2e7d32');
    expect(drawn[1][3]).to.equal('#c62828');
    // 1.5 and 0.3 on one scale: the widths keep that proportion.
    expect(Number(drawn[0][2]) / Number(drawn[1][2])).to.be.closeTo(5, 0.01);
    expect(svg).to.include('1.50 (≥ 1.2)');
    expect(svg).to.include('— (≥ 0.8)');
  });

  it('stretches the axis to the largest value and writes no backticks', () => {
    const svg = renderChart(chartBars({ oneWayCopy64: 3.2 }), 't');
    expect(svg).to.include('>3.5</text>');
    expect(svg).not.to.include('>4.0</text>');
    expect(svg).not.to.include('`');
    expect(svg).to.include('rx() → tx()');
  });

  it('labels every bar within the label column', () => {
    for (const b of chartBars({})) expect(b.label.length * 7, b.label).to.be.below(LABEL_W - 8);
  });
});
