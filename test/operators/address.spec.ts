import { expect } from 'chai';
import fc from 'fast-check';
import {
  formatIPv4,
  formatIPv6,
  formatMac,
  parseIPv4,
  parseIPv6,
  parseMac,
  parsePrefix,
  prefixContains,
} from '../../src/streams/operators';

describe('operators: addresses', () => {
  it('parses and formats MACs', () => {
    expect([...parseMac('02:00:0a:ff:00:01')]).to.deep.equal([2, 0, 10, 255, 0, 1]);
    expect(formatMac(parseMac('02-00-0A-FF-00-01'))).to.equal('02:00:0a:ff:00:01');
    for (const bad of ['02:00:00:00:00', '02:00:00:00:00:100', 'zz:00:00:00:00:00', ''])
      expect(() => parseMac(bad), bad).to.throw(TypeError);
  });

  it('parses and formats IPv4', () => {
    expect([...parseIPv4('192.168.0.255')]).to.deep.equal([192, 168, 0, 255]);
    for (const bad of ['1.2.3', '1.2.3.256', '01.2.3.4', '1.2.3.4.5', 'a.b.c.d'])
      expect(() => parseIPv4(bad), bad).to.throw(TypeError);
  });

  it('parses and formats IPv6 (RFC 5952)', () => {
    const cases: [string, string][] = [
      ['fd00::1', 'fd00::1'],
      ['::', '::'],
      ['::1', '::1'],
      ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['::ffff:10.0.0.1', '::ffff:a00:1'],
      ['fe80::', 'fe80::'],
    ];
    for (const [text, canonical] of cases) expect(formatIPv6(parseIPv6(text))).to.equal(canonical);
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', ':::', '1:2:3:4:5:6:7'])
      expect(() => parseIPv6(bad), bad).to.throw(TypeError);
  });

  it('round-trips any address through format and parse (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        expect([...parseIPv6(formatIPv6(b))]).to.deep.equal([...b]);
        expect([...parseIPv4(formatIPv4(b))]).to.deep.equal([...b.subarray(0, 4)]);
      }),
    );
  });

  it('parses prefixes, clearing host bits, and tests membership', () => {
    const p = parsePrefix('10.1.2.3/12');
    expect(p.family).to.equal(4);
    expect(p.bits).to.equal(12);
    expect(formatIPv4(p.address)).to.equal('10.0.0.0');
    expect(prefixContains(p, parseIPv4('10.15.255.255'))).to.equal(true);
    expect(prefixContains(p, parseIPv4('10.16.0.0'))).to.equal(false);
    const six = parsePrefix('2001:db8:ff::/33');
    expect(prefixContains(six, parseIPv6('2001:db8:7fff::1'))).to.equal(true);
    expect(prefixContains(six, parseIPv6('2001:db8:8000::'))).to.equal(false);
    expect(parsePrefix('fd00::1').bits).to.equal(128);
    for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/1/2', 'fd00::/129', '10.0.0.0/08'])
      expect(() => parsePrefix(bad), bad).to.throw(TypeError);
  });
});
