import { spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';

/**
 * Children that run as another user (`nobody`, or a uid a test drops to) must not read anything
 * from the checkout: when a folder above it is private (a clone under `mktemp -d`, mode 0700),
 * that user cannot even traverse it. So they get everything in one world-readable temporary
 * folder, made once per process and removed at exit:
 *
 *   src/           the sources as plain CommonJS (ts-node would also cost each child over a second)
 *   node_modules/  the runtime dependencies, hard-linked (copied where a link is not possible)
 *   rx_memif.node  a copy of the addon this process uses, loaded through RX_MEMIF_ADDON
 *
 * Tests that use it carry {@link AS_USER_TAG} in their title: `.ci/run` runs them again from a
 * clone inside a 0700 folder.
 */
export const AS_USER_TAG = '@as-user';

/** The `nobody` user and group of Debian (65534). */
export const NOBODY = { uid: 65534, gid: 65534 } as const;

export interface User {
  uid: number;
  gid: number;
}

const root = path.resolve(__dirname, '..', '..');

let sandbox: string | undefined;

const chmodTree = (dir: string): void => {
  fs.chmodSync(dir, 0o755);
  for (const e of fs.readdirSync(dir, { withFileTypes: true }))
    if (e.isDirectory()) chmodTree(path.join(dir, e.name));
};

const transpileSources = (out: string): void => {
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const relPath = path.join(rel, entry.name);
      if (entry.isDirectory()) walk(relPath);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const source = fs.readFileSync(path.join(root, relPath), 'utf8');
        // No type check, as ts-node's transpile-only does.
        const js = ts.transpileModule(source, {
          fileName: relPath,
          compilerOptions: {
            module: ts.ModuleKind.CommonJS,
            target: ts.ScriptTarget.ES2022,
            esModuleInterop: true,
          },
        }).outputText;
        const file = path.join(out, relPath.replace(/\.ts$/, '.js'));
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, js, { mode: 0o644 });
      }
    }
  };
  walk('src');
};

/** Hard links `from` into `to` file by file; copies what cannot be linked or is not world-readable. */
const linkTree = (from: string, to: string): void => {
  fs.mkdirSync(to, { recursive: true });
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    const [src, dst] = [path.join(from, e.name), path.join(to, e.name)];
    const st = fs.statSync(src); // follows links: a package's own symlinks become files
    if (st.isDirectory()) linkTree(src, dst);
    else if (st.isFile()) {
      try {
        if ((st.mode & 0o004) === 0) throw new Error('not world-readable');
        fs.linkSync(src, dst);
      } catch {
        fs.copyFileSync(src, dst);
        fs.chmodSync(dst, 0o644);
      }
    }
  }
};

/** The runtime dependencies of package.json, with theirs, as installed at the top level. */
const dependencyClosure = (modules: string): string[] => {
  const seen = new Set<string>();
  const visit = (pkgDir: string): void => {
    const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const name of Object.keys(pkg.dependencies ?? {})) {
      if (seen.has(name) || !fs.existsSync(path.join(modules, name))) continue;
      seen.add(name);
      visit(path.join(modules, name));
    }
  };
  visit(root);
  return [...seen];
};

/** The addon this process loads: the RX_MEMIF_ADDON override (the ASan build) or build/Release. */
const addonInUse = (): string =>
  process.env.RX_MEMIF_ADDON ?? path.join(root, 'build', 'Release', 'rx_memif.node');

/** Fails with a clear message when `dir` cannot be traversed by every user. */
const assertWorldTraversable = (dir: string): void => {
  for (let d = dir; ; d = path.dirname(d)) {
    if ((fs.statSync(d).mode & 0o001) === 0)
      throw new Error(`as-user sandbox: ${d} is not traversable by other users (set TMPDIR)`);
    if (d === path.dirname(d)) return;
  }
};

/** The world-readable folder described above; made on first use. */
export const userSandbox = (): string => {
  if (sandbox) return sandbox;
  assertWorldTraversable(os.tmpdir());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rx-memif-as-user-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  transpileSources(dir);
  const modules = fs.realpathSync(path.join(root, 'node_modules'));
  for (const name of dependencyClosure(modules))
    linkTree(path.join(modules, name), path.join(dir, 'node_modules', name));
  fs.copyFileSync(addonInUse(), path.join(dir, 'rx_memif.node'));
  chmodTree(dir);
  fs.chmodSync(path.join(dir, 'rx_memif.node'), 0o755);
  sandbox = dir;
  return dir;
};

/** A fresh 0755 temporary folder (for sockets another user must reach); removed by `cleanup`. */
export const sharedDir = (): { dir: string; cleanup: () => void } => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rx-memif-shared-'));
  fs.chmodSync(dir, 0o755);
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
};

/** The CLI entry point inside the sandbox (`rx-memif ...` as plain JS). */
export const sandboxCli = (): string => path.join(userSandbox(), 'src', 'cli', 'main.js');

/** Environment of a child that runs code from the sandbox. */
export const sandboxEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
  const dir = userSandbox();
  return {
    ...process.env,
    NODE_PATH: path.join(dir, 'node_modules'), // for `node -e` scripts, which resolve from cwd
    RX_MEMIF_ADDON: path.join(dir, 'rx_memif.node'),
    ...extra,
  };
};

/**
 * Spawn options for a child running from the sandbox, as `user` when given: its working
 * directory is the sandbox too (libuv changes directory before it drops privileges).
 */
export const sandboxSpawnOptions = (user?: User, env: NodeJS.ProcessEnv = {}): SpawnOptions => ({
  cwd: userSandbox(),
  env: sandboxEnv(env),
  ...(user ? { uid: user.uid, gid: user.gid } : {}),
});

/** Starts `node <script> ...args` from the sandbox as `user` (a script path or `-e` code). */
export const spawnNodeAs = (
  user: User | undefined,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): ChildProcess =>
  spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...sandboxSpawnOptions(user, env),
  });
