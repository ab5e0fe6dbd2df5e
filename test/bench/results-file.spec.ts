import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeSection } from '../../bench/results-file';
import { tempDir } from '../helpers/states';

describe('bench/RESULTS.md sections', () => {
  let dir = '';
  let cleanup: () => void = () => undefined;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('appends a missing section, then replaces only its own lines', () => {
    const file = path.join(dir, 'RESULTS.md');
    fs.writeFileSync(file, '# Results\n\nhand-written intro\n');
    writeSection('bench', ['run 1'], file);
    writeSection('soak', ['soak 1'], file);
    fs.appendFileSync(file, '\nhand-written analysis\n');
    writeSection('bench', ['run 2', 'more'], file);
    expect(fs.readFileSync(file, 'utf8')).to.equal(
      '# Results\n\nhand-written intro\n\n' +
        '<!-- bench:begin -->\nrun 2\nmore\n<!-- bench:end -->\n\n' +
        '<!-- soak:begin -->\nsoak 1\n<!-- soak:end -->\n\nhand-written analysis\n',
    );
  });

  it('creates the file when there is none', () => {
    const file = path.join(dir, 'NEW.md');
    writeSection('soak', ['x'], file);
    expect(fs.readFileSync(file, 'utf8')).to.equal('<!-- soak:begin -->\nx\n<!-- soak:end -->\n');
  });
});
