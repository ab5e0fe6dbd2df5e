import * as path from 'node:path';
import * as fs from 'node:fs';
import { MemifError } from './errors';
import type { NativeBinding } from './native';

/** Where node-gyp puts the addon; `Debug` is used by the sanitizer build. */
const candidates = (root: string): string[] => {
  const preferred = process.env.RX_MEMIF_ADDON;
  const builds = ['Release', 'Debug'].map((kind) =>
    path.join(root, 'build', kind, 'rx_memif.node'),
  );
  return preferred ? [path.resolve(preferred)] : builds;
};

/** The package root, from both `src/native-bridge` (ts-node) and `dist/native-bridge`. */
const packageRoot = (): string => path.resolve(__dirname, '..', '..');

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
  return new MemifError(
    `rx-memif: cannot load the native addon ${file}: ${message}`,
    'ERR_ADDON_LOAD',
  );
};

let cached: NativeBinding | undefined;

/**
 * Loads the addon once and registers {@link MemifError} as the class of its errors.
 * Throws a {@link MemifError} whose message names the cause: missing build, other Node ABI, ...
 */
export const loadNative = (): NativeBinding => {
  if (cached) return cached;
  const files = candidates(packageRoot());
  const file = files.find((f) => fs.existsSync(f));
  if (!file) {
    throw new MemifError(
      `rx-memif: the native addon is missing (looked for ${files.join(', ')}). ` +
        'It is built by `npm install`; run `npm rebuild rx-memif` or `npx node-gyp rebuild` ' +
        '(needs g++, make and python3).',
      'ERR_ADDON_MISSING',
    );
  }
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
