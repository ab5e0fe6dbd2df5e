#!/usr/bin/env node
'use strict';
// Fails when a file of the repository points at a document outside it (a reference file by
// name, an absolute path of a work machine, a numbered section of a document we do not ship) or
// at a `docs/...#anchor` whose heading does not exist. Run by test/docs/references.spec.ts (so
// `npm test` and CI check it) and by hand: `node scripts/check-doc-refs.js`.
const fs = require('node:fs');
const path = require('node:path');

const SCANNED = ['src', 'native', 'test', 'examples', 'bench', 'scripts', 'docs', 'README.md'];
// The checker and its spec name the forbidden references on purpose.
const SKIPPED = new Set(['scripts/check-doc-refs.js', 'test/docs/references.spec.ts']);
const TEXT = /\.(ts|js|mjs|cjs|cc|h|md|json|gyp)$/;

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

/** The anchors of a markdown text (headings outside code fences, duplicates numbered). */
const anchorsOf = (markdown) => {
  const anchors = new Set();
  const seen = new Map();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const m = !fenced && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
};

// Words that only make sense with a document we do not ship.
const OUTSIDE = [
  [/memif-protocol\.md/, 'names memif-protocol.md, which is not in the repository'],
  [/\bpeers\.md/, 'names peers.md, which is not in the repository'],
  [/\/work\/|\.\.\/shared\//, 'names a path outside the repository'],
];
// A numbered section (the sign U+00A7) refers to some document; only RFCs may be cited that way.
const SECTION = /\u00a7/;
// A markdown file name, with its directories and an optional #anchor; not part of a URL.
const MD_REF = /(?<![\w/.:-])((?:[\w.-]+\/)*[\w-]+\.md)(#[\w-]+)?/g;
// An in-page markdown link: ](#anchor)
const PAGE_LINK = /\]\(#([\w-]+)\)/g;

/** The comment part of a line of code (file names in code are data, not references). */
const commentOf = (line) => {
  if (/^\s*(\/\/|\*|\/\*)/.test(line)) return line;
  const at = line.indexOf('// ');
  return at < 0 ? '' : line.slice(at);
};

/**
 * Problems in one file's text. `exists(p)` answers for a repository-relative path, `named(n)`
 * for a bare file name found anywhere in it, `anchors(p)` with a markdown file's anchors
 * (injectable, so the spec can check the checker on made-up files).
 */
const problemsIn = (file, text, { exists, named, anchors }) => {
  const problems = [];
  const dir = path.posix.dirname(file);
  const note = (line, message) => problems.push({ file, line, message });
  text.split('\n').forEach((content, i) => {
    const line = i + 1;
    for (const [pattern, message] of OUTSIDE) if (pattern.test(content)) note(line, message);
    if (SECTION.test(content) && !/\bRFC\b/.test(content))
      note(line, 'cites a numbered section of a document outside the repository (cite docs/)');
    const prose = file.endsWith('.md') ? content : commentOf(content);
    for (const m of prose.matchAll(MD_REF)) {
      const [, ref, hash] = m;
      if (/memif-protocol\.md|peers\.md/.test(ref)) continue; // reported above
      const candidates = [path.posix.normalize(ref), path.posix.join(dir, ref)];
      const target = candidates.find((c) => !c.startsWith('..') && exists(c));
      if (!target && !ref.includes('/') && !hash && named(ref)) continue;
      if (!target) {
        note(line, `refers to ${ref}, which is not in the repository`);
        continue;
      }
      if (hash && !anchors(target).has(hash.slice(1)))
        note(line, `refers to ${ref}${hash}, but ${target} has no heading for that anchor`);
    }
    if (file.endsWith('.md'))
      for (const m of content.matchAll(PAGE_LINK))
        if (!anchors(file).has(m[1])) note(line, `links #${m[1]}, a heading this file lacks`);
  });
  return problems;
};

// Generated (typedoc's HTML and scripts), not written by us.
const GENERATED = new Set(['docs/api']);

const walk = (root, rel, out) => {
  if (GENERATED.has(rel)) return;
  const abs = path.join(root, rel);
  if (!fs.existsSync(abs)) return;
  if (fs.statSync(abs).isDirectory()) {
    for (const name of fs.readdirSync(abs).sort()) walk(root, path.posix.join(rel, name), out);
  } else if (TEXT.test(rel)) out.push(rel);
};

/** Every problem in the scanned parts of the repository at `root`. */
const checkRepository = (root) => {
  const files = [];
  for (const entry of SCANNED) walk(root, entry, files);
  const names = new Set(files.map((f) => path.posix.basename(f)));
  const named = (n) => names.has(n);
  const cache = new Map();
  const exists = (p) =>
    fs.existsSync(path.join(root, p)) && fs.statSync(path.join(root, p)).isFile();
  const anchors = (p) => {
    if (!cache.has(p)) cache.set(p, anchorsOf(fs.readFileSync(path.join(root, p), 'utf8')));
    return cache.get(p);
  };
  return files
    .filter((f) => !SKIPPED.has(f))
    .flatMap((f) =>
      problemsIn(f, fs.readFileSync(path.join(root, f), 'utf8'), { exists, named, anchors }),
    );
};

module.exports = { slug, anchorsOf, problemsIn, checkRepository };

if (require.main === module) {
  const problems = checkRepository(path.join(__dirname, '..'));
  for (const p of problems) console.error(`${p.file}:${p.line}: ${p.message}`);
  console.log(
    problems.length === 0
      ? 'doc references: all point into the repository'
      : `doc references: ${problems.length} problem(s)`,
  );
  process.exitCode = problems.length === 0 ? 0 : 1;
}
