import { expect } from 'chai';
import * as path from 'node:path';

interface Problem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}
interface Repo {
  exists(p: string): boolean;
  named(n: string): boolean;
  anchors(p: string): Set<string>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const checker = require('../../scripts/check-doc-refs.js') as {
  slug(heading: string): string;
  anchorsOf(markdown: string): Set<string>;
  problemsIn(file: string, text: string, repo: Repo): Problem[];
  checkRepository(root: string): Problem[];
};

// Built from parts so that this file does not hold the references it tests for.
const outsideDoc = 'memif-' + 'protocol.md';
const section = String.fromCharCode(0xa7);

/** A made-up repository: docs/protocol.md with two headings, README.md. */
const repo: Repo = {
  exists: (p) => p === 'docs/protocol.md' || p === 'README.md',
  named: (n) => n === 'RESULTS.md',
  anchors: (p) =>
    p === 'docs/protocol.md'
      ? checker.anchorsOf('# Title\n## Ring header\n## ADD_RING\n')
      : new Set(),
};
const messages = (file: string, text: string): string[] =>
  checker.problemsIn(file, text, repo).map((p) => `${p.line}: ${p.message}`);

describe('docs: references point into the repository', () => {
  it('no file in src, native, test, examples, bench, scripts, docs or the README points outside', () => {
    const problems = checker.checkRepository(path.join(__dirname, '..', '..'));
    expect(problems.map((p) => `${p.file}:${p.line}: ${p.message}`)).to.deep.equal([]);
  });

  it('anchors are GitHub heading slugs, duplicates numbered, code fences skipped', () => {
    expect(checker.slug('ADD_RING')).to.equal('add_ring');
    expect(checker.slug('DPDK 22.11 chained-TX overrun')).to.equal('dpdk-2211-chained-tx-overrun');
    expect(checker.slug('Who writes `head` and `tail`?')).to.equal('who-writes-head-and-tail');
    expect([...checker.anchorsOf('# A\n## A\n```\n# not a heading\n```\n### B c\n')]).to.deep.equal(
      ['a', 'a-1', 'b-c'],
    );
  });

  it('flags an outside document, a numbered section, a work-machine path', () => {
    expect(messages('src/a.ts', `// see ${outsideDoc} ${section}4.8`)).to.have.length(2);
    expect(messages('src/a.ts', '// see shared/peers.md')).to.have.length(1);
    expect(messages('test/a.ts', `/** written from /work/shared/x */`)).to.have.length(1);
    expect(messages('README.md', `layout (${section}4.2)`)).to.deep.equal([
      '1: cites a numbered section of a document outside the repository (cite docs/)',
    ]);
  });

  it('flags a missing docs file or anchor, accepts existing ones', () => {
    expect(
      messages('src/a.ts', '// docs/protocol.md#ring-header and docs/protocol.md#add_ring'),
    ).to.deep.equal([]);
    expect(messages('src/a.ts', '// docs/protocol.md#ring-tail')).to.deep.equal([
      '1: refers to docs/protocol.md#ring-tail, but docs/protocol.md has no heading for that anchor',
    ]);
    expect(messages('src/a.ts', '// docs/tuning.md')).to.deep.equal([
      '1: refers to docs/tuning.md, which is not in the repository',
    ]);
    expect(messages('docs/protocol.md', '[up](#title) [gone](#nowhere)')).to.deep.equal([
      '1: links #nowhere, a heading this file lacks',
    ]);
    expect(messages('docs/interop.md', '[ring](protocol.md#ring-header)')).to.deep.equal([]);
  });

  it('leaves RFC sections, URLs, file names in code and known bare names alone', () => {
    expect(messages('src/a.ts', `// RFC 4861 ${section}7.2.4`)).to.deep.equal([]);
    expect(messages('README.md', 'see https://example.org/guide.md#x')).to.deep.equal([]);
    expect(messages('test/a.ts', "const file = path.join(dir, 'NEW.md');")).to.deep.equal([]);
    expect(messages('scripts/a.ts', '/** The RESULTS.md record of a run */')).to.deep.equal([]);
  });
});
