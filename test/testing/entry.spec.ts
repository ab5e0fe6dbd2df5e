import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

describe('testing: the rx-memif/testing entry point', () => {
  it('is in the package exports, next to the main entry', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    expect(pkg.exports['./testing']).to.deep.equal({
      types: './dist/testing/index.d.ts',
      default: './dist/testing/index.js',
    });
  });

  it('runs a virtual interface without loading the native addon (even when it is missing)', function () {
    this.timeout(30000);
    const script = `
      const { TestScheduler } = require('rxjs/testing');
      const { virtualInterface, frame } = require('./src/testing');
      const s = new TestScheduler((a, b) => {
        if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(JSON.stringify(a));
      });
      s.run(({ hot, expectObservable }) => {
        const vi = virtualInterface(s);
        vi.feed(0, hot('-a', { a: frame('01') }));
        vi.rx().subscribe(vi.tx());
        expectObservable(vi.transmitted()).toBe('-a', { a: frame('01') });
      });
      const addons = Object.keys(require.cache).filter((f) => f.endsWith('.node'));
      process.stdout.write(JSON.stringify({ addons }));
    `;
    const run = spawnSync(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-e', script],
      {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, RX_MEMIF_ADDON: '/nonexistent/rx_memif.node' },
      },
    );
    expect(run.stderr).to.equal('');
    expect(run.status).to.equal(0);
    expect(JSON.parse(run.stdout)).to.deep.equal({ addons: [] });
  });
});
