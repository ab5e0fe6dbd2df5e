import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { explainLoadError, findAddon } from '../../src/native-bridge/load';
import { MemifError } from '../../src/native-bridge/errors';
import { tempDir } from '../helpers/states';

const root = path.resolve(__dirname, '..', '..');
/** The addon these tests run against (RX_MEMIF_ADDON or the local build), to copy around. */
const realAddon = findAddon(root);
const here = `${process.platform}-${process.arch}`;
const otherArch = process.arch === 'arm64' ? 'x64' : 'arm64';

/** Runs `script` in a child with ts-node and `env`; returns its last stdout line as JSON. */
const inChild = <T>(script: string, env: NodeJS.ProcessEnv): T => {
  const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as T;
};

/** Loads the addon in a child with RX_MEMIF_ADDON set; returns the error's code and message. */
const loadIn = (addon: string): { code: string; message: string } =>
  inChild(
    `try { require('./src/native-bridge/load').loadNative(); console.log(JSON.stringify({ code: 'OK', message: '' })); }
    catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`,
    { RX_MEMIF_ADDON: addon },
  );

/** A package root holding `files` (relative path -> content or a file to copy). */
const packageWith = (dir: string, files: Record<string, string | { copy: string }>): string => {
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'rx-memif' }));
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (typeof content === 'string') fs.writeFileSync(file, content);
    else fs.copyFileSync(content.copy, file);
  }
  return dir;
};

const thrown = (f: () => unknown): MemifError => {
  try {
    f();
  } catch (e) {
    if (e instanceof MemifError) return e;
    throw e;
  }
  throw new Error('did not throw');
};

describe('native addon loader', () => {
  it('says the addon is missing, where it looked, and how to build it', () => {
    const r = loadIn('/nonexistent/rx_memif.node');
    expect(r.code).to.equal('ERR_ADDON_MISSING');
    expect(r.message).to.include('/nonexistent/rx_memif.node').and.include('RX_MEMIF_ADDON');
    expect(r.message).to.match(/npm rebuild rx-memif/);
  });

  it('reports a file that is not a loadable addon', () => {
    const { dir, cleanup } = tempDir();
    try {
      const bogus = path.join(dir, 'rx_memif.node');
      fs.writeFileSync(bogus, 'not an ELF file');
      const r = loadIn(bogus);
      expect(r.code).to.equal('ERR_ADDON_LOAD');
      expect(r.message).to.include(bogus).and.include('not an ELF shared object');
    } finally {
      cleanup();
    }
  });

  it('names the architecture of an addon built for another machine', () => {
    const { dir, cleanup } = tempDir();
    try {
      // The real addon with its ELF e_machine (byte 18) rewritten: what a copied prebuild for
      // the other arch looks like to dlopen.
      const foreign = path.join(dir, 'rx_memif.node');
      const bytes = fs.readFileSync(realAddon);
      bytes.writeUInt16LE(otherArch === 'arm64' ? 183 : 62, 18);
      fs.writeFileSync(foreign, bytes);
      const r = loadIn(foreign);
      expect(r.code).to.equal('ERR_ADDON_LOAD');
      expect(r.message).to.include(foreign);
      expect(r.message).to.include(`built for ${otherArch}, this is ${process.arch}`);
      expect(r.message).to.match(/npm rebuild rx-memif/);
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
    expect(loadIn(realAddon).code).to.equal('OK');
  });

  describe('finding the addon (node-gyp-build)', () => {
    let dir: string;
    let cleanup: () => void;
    beforeEach(() => ({ dir, cleanup } = tempDir()));
    afterEach(() => cleanup());

    it(`picks the prebuild for ${here} when nothing was compiled, and it works`, () => {
      packageWith(dir, {
        [`prebuilds/${here}/node.napi.glibc.node`]: { copy: realAddon },
        [`prebuilds/${process.platform}-${otherArch}/node.napi.glibc.node`]: 'other arch',
      });
      const file = findAddon(dir, {});
      expect(file).to.equal(path.join(dir, 'prebuilds', here, 'node.napi.glibc.node'));
      const r = inChild<{ cacheLineSize: number }>(
        `const b = require(require('./src/native-bridge/load').findAddon(${JSON.stringify(dir)}, {}));
        console.log(JSON.stringify({ cacheLineSize: b.cacheLineSize }));`,
        {},
      );
      expect(r.cacheLineSize).to.equal(process.arch === 'arm64' ? 128 : 64);
    });

    it('prefers a local build (build/Release) to the prebuild', () => {
      packageWith(dir, {
        [`prebuilds/${here}/node.napi.glibc.node`]: 'prebuilt',
        'build/Release/rx_memif.node': 'compiled',
      });
      expect(findAddon(dir, {})).to.equal(path.join(dir, 'build', 'Release', 'rx_memif.node'));
    });

    it('lets RX_MEMIF_ADDON override both', () => {
      packageWith(dir, { [`prebuilds/${here}/node.napi.glibc.node`]: 'prebuilt' });
      const mine = path.join(dir, 'asan.node');
      fs.writeFileSync(mine, 'sanitizer build');
      expect(findAddon(dir, { RX_MEMIF_ADDON: mine })).to.equal(mine);
    });

    it('is missing, with where it looked and the fix, when no prebuild matches', () => {
      packageWith(dir, {
        [`prebuilds/${process.platform}-${otherArch}/node.napi.glibc.node`]: 'other arch',
        [`prebuilds/${here}/node.napi.musl.node`]: 'other libc',
      });
      const e = thrown(() => findAddon(dir, {}));
      expect(e.code).to.equal('ERR_ADDON_MISSING');
      expect(e.message).to.include(path.join(dir, 'build', 'Release'));
      expect(e.message).to.include(path.join(dir, 'prebuilds', here));
      expect(e.message).to.include(`arch=${process.arch}`).and.include('libc=glibc');
      expect(e.message)
        .to.match(/npm rebuild rx-memif/)
        .and.match(/g\+\+, make and python3/);
    });
  });
});
