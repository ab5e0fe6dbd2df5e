import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { explainLoadError } from '../../src/native-bridge/load';
import { tempDir } from '../helpers/states';

const root = path.resolve(__dirname, '..', '..');

/** Loads the addon in a child with RX_MEMIF_ADDON set; returns the error's code and message. */
const loadIn = (addon: string): { code: string; message: string } => {
  const script = `
    try { require('./src/native-bridge/load').loadNative(); console.log(JSON.stringify({ code: 'OK', message: '' })); }
    catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
  const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    cwd: root,
    env: { ...process.env, RX_MEMIF_ADDON: addon },
    encoding: 'utf8',
  });
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
    code: string;
    message: string;
  };
};

describe('native addon loader', () => {
  it('says the addon is missing, where it looked, and how to build it', () => {
    const r = loadIn('/nonexistent/rx_memif.node');
    expect(r.code).to.equal('ERR_ADDON_MISSING');
    expect(r.message).to.include('/nonexistent/rx_memif.node');
    expect(r.message).to.match(/npm rebuild rx-memif/);
  });

  it('reports a file that is not a loadable addon', () => {
    const { dir, cleanup } = tempDir();
    try {
      const bogus = path.join(dir, 'rx_memif.node');
      fs.writeFileSync(bogus, 'not an ELF file');
      const r = loadIn(bogus);
      expect(r.code).to.equal('ERR_ADDON_LOAD');
      expect(r.message).to.include(bogus);
    } finally {
      cleanup();
    }
  });

  it('names an ABI mismatch and the rebuild command', () => {
    const cause = new Error(
      'The module was compiled against a different Node.js version using NODE_MODULE_VERSION 108. This version of Node.js requires NODE_MODULE_VERSION 115.',
    );
    const e = explainLoadError('/x/rx_memif.node', cause);
    expect(e.code).to.equal('ERR_ADDON_ABI');
    expect(e.message).to.include(process.version);
    expect(e.message).to.include(`NODE_MODULE_VERSION ${process.versions.modules}`);
    expect(e.message).to.match(/npm rebuild rx-memif/);
  });

  it('loads the real addon', () => {
    expect(loadIn(path.join(root, 'build', 'Release', 'rx_memif.node')).code).to.equal('OK');
  });
});
