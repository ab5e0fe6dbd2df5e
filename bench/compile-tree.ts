import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';

/**
 * The TypeScript of `dirs` (relative to `root`) as plain CommonJS in a new temporary directory,
 * transpiled file by file (no type check, as ts-node's transpile-only does). The bench runs from
 * there so that the process measured does not carry the TypeScript compiler in its heap: every
 * full collection would have to mark it too, and GC share is one of the figures.
 */
export const compileTree = (root: string, dirs: readonly string[]): string => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'rx-memif-bench-js-'));
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const relPath = path.join(rel, entry.name);
      if (entry.isDirectory()) walk(relPath);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const js = ts.transpileModule(fs.readFileSync(path.join(root, relPath), 'utf8'), {
          fileName: relPath,
          compilerOptions: {
            module: ts.ModuleKind.CommonJS,
            target: ts.ScriptTarget.ES2022,
            esModuleInterop: true,
          },
        }).outputText;
        const file = path.join(out, relPath.replace(/\.ts$/, '.js'));
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, js);
      }
    }
  };
  for (const d of dirs) walk(d);
  return out;
};
