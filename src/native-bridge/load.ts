import * as path from 'node:path';
import * as fs from 'node:fs';
import { MemifError } from './errors';
import type { NativeBinding } from './native';

/** The part of node-gyp-build we use: where the addon for this platform, arch and libc is. */
interface NodeGypBuild {
  resolve(dir: string): string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeGypBuild = require('node-gyp-build') as NodeGypBuild;

/** The package root, from both `src/native-bridge` (ts-node) and `dist/native-bridge`. */
const packageRoot = (): string => path.resolve(__dirname, '..', '..');

const rebuildHint =
  'run `npm rebuild rx-memif` (or `npx node-gyp rebuild` in the package), which compiles it ' +
  'from source and needs g++, make and python3';

/**
 * The addon file to load: `RX_MEMIF_ADDON` when set (the sanitizer build, tests), else what
 * node-gyp-build picks in `root`: a local build (`build/Release`, then `build/Debug`) before the
 * prebuilt `prebuilds/<platform>-<arch>/` binary that matches this runtime and libc.
 * Throws `ERR_ADDON_MISSING` naming where it looked and how to build one.
 */
export const findAddon = (root: string, env: NodeJS.ProcessEnv = process.env): string => {
  const preferred = env.RX_MEMIF_ADDON;
  if (preferred) {
    const file = path.resolve(preferred);
    if (fs.existsSync(file)) return file;
    throw new MemifError(
      `rx-memif: the native addon is missing (RX_MEMIF_ADDON names ${file}, which does not ` +
        `exist). Unset RX_MEMIF_ADDON to use the package's own build, or ${rebuildHint}.`,
      'ERR_ADDON_MISSING',
    );
  }
  try {
    return nodeGypBuild.resolve(root);
  } catch (cause) {
    // node-gyp-build's message names the platform, arch, libc and Node version it matched for.
    const detail = cause instanceof Error ? cause.message.trim().split('\n')[0] : String(cause);
    const looked = [
      path.join(root, 'build', 'Release'),
      path.join(root, 'build', 'Debug'),
      path.join(root, 'prebuilds', `${process.platform}-${process.arch}`),
    ];
    throw new MemifError(
      `rx-memif: the native addon is missing (looked in ${looked.join(', ')}; ${detail}). ` +
        'The package ships prebuilt binaries for linux-x64 and linux-arm64 (glibc) only and ' +
        `\`npm install\` compiles one elsewhere; ${rebuildHint}.`,
      'ERR_ADDON_MISSING',
    );
  }
};

/** Turns a failed `require` of the addon into an error that names the cause and the fix. */
export const explainLoadError = (file: string, cause: unknown): MemifError => {
  const message = cause instanceof Error ? cause.message : String(cause);
  if (/NODE_MODULE_VERSION|was compiled against a different Node\.js version/.test(message)) {
    return new MemifError(
      `rx-memif: the native addon ${file} was built for another Node.js ABI than this one ` +
        `(${process.version}, NODE_MODULE_VERSION ${process.versions.modules}); ` +
        `rebuild it with \`npm rebuild rx-memif\` (or \`npx node-gyp rebuild\` in the package). ` +
        `Cause: ${message}`,
      'ERR_ADDON_ABI',
    );
  }
  const foreign = foreignBinary(file);
  return new MemifError(
    `rx-memif: cannot load the native addon ${file}: ${message}` +
      (foreign ? ` (${foreign}: ${rebuildHint})` : ''),
    'ERR_ADDON_LOAD',
  );
};

/** ELF `e_machine` values of the architectures Node runs on Linux. */
const elfMachines: Record<number, string> = {
  3: 'ia32',
  8: 'mips',
  20: 'ppc',
  21: 'ppc64',
  22: 's390x',
  40: 'arm',
  62: 'x64',
  183: 'arm64',
  243: 'riscv64',
  258: 'loong64',
};

/**
 * Why `file` cannot be this process's addon when its header says so: not ELF, or ELF for
 * another machine. glibc's dlopen reports the latter as "cannot open shared object file: No
 * such file or directory" although the file is there, hence the look at the header.
 */
const foreignBinary = (file: string): string | undefined => {
  let header: Buffer;
  try {
    header = Buffer.alloc(20);
    const fd = fs.openSync(file, 'r');
    try {
      header = header.subarray(0, fs.readSync(fd, header, 0, 20, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  if (header.length < 20 || header.readUInt32BE(0) !== 0x7f454c46)
    return 'not an ELF shared object';
  // e_machine at byte 18, in the file's byte order (EI_DATA at byte 5: 1 little, 2 big endian).
  const machine = header[5] === 2 ? header.readUInt16BE(18) : header.readUInt16LE(18);
  const arch = elfMachines[machine] ?? `ELF machine ${machine}`;
  return arch === process.arch ? undefined : `built for ${arch}, this is ${process.arch}`;
};

let cached: NativeBinding | undefined;

/**
 * Loads the addon once and registers {@link MemifError} as the class of its errors.
 * Throws a {@link MemifError} whose message names the cause: missing build, other Node ABI, ...
 */
export const loadNative = (): NativeBinding => {
  if (cached) return cached;
  const file = findAddon(packageRoot());
  let binding: NativeBinding;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    binding = require(file) as NativeBinding;
  } catch (cause) {
    throw explainLoadError(file, cause);
  }
  binding.setErrorFactory(
    (message, code, errno, syscall) => new MemifError(message, code, errno, syscall),
  );
  cached = binding;
  return binding;
};
