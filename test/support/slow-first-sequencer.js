/**
 * Jest's default order, with the suites that take longest on their own clock (deadlines, retries, a real
 * `cdk synth`) started first. Without timings from an earlier run (a fresh clone: CI) Jest orders files by size,
 * and these are small files that would otherwise start last and leave one worker running them alone.
 */
const Sequencer = require('@jest/test-sequencer').default;

const SLOW_FIRST = [
  /inference\/faults\.pooled\.test\.ts$/,
  /inference\/faults\.silo\.test\.ts$/,
  /review\/workflow\.test\.ts$/,
  /cli\/cdk-synth\.test\.ts$/,
  /inference\/e2e\.test\.ts$/,
  /generated-requests\.test\.ts$/,
];

const rank = (test) => {
  const i = SLOW_FIRST.findIndex((re) => re.test(test.path.replace(/\\/g, '/')));
  return i < 0 ? SLOW_FIRST.length : i;
};

class SlowFirstSequencer extends Sequencer {
  async sort(tests) {
    const sorted = await super.sort(tests);
    // Array.prototype.sort is stable: the rest keep Jest's order.
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}

module.exports = SlowFirstSequencer;
