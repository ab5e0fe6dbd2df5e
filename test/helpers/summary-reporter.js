'use strict';
// The spec reporter, plus the run's own counts for CI: with RX_MEMIF_TEST_SUMMARY=/path.json set,
// it writes {"passed","failed","pending","failures"} from mocha's stats when the run ends, so that
// .ci/run can end with one plain `N passed, N failed` line that its tooling reads, preceded by the
// title and first error line of each failure (a CI log may keep only its tail). Plain JS because
// mocha loads reporters before any --require'd compiler.
const fs = require('node:fs');
const Mocha = require('mocha');

const { Spec } = Mocha.reporters;
const { EVENT_RUN_END, EVENT_TEST_FAIL } = Mocha.Runner.constants;

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    const out = process.env.RX_MEMIF_TEST_SUMMARY;
    if (!out) return;
    const failed = [];
    runner.on(EVENT_TEST_FAIL, (test, err) => {
      const message = String((err && err.message) || err).split('\n')[0];
      failed.push({ title: test.fullTitle(), error: message.slice(0, 300) });
    });
    runner.once(EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats;
      const summary = { passed: passes, failed: failures, pending, failures: failed };
      fs.writeFileSync(out, `${JSON.stringify(summary)}\n`);
    });
  }
}

module.exports = SummaryReporter;
