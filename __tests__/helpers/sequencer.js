// The order files start in (a fresh clone has no timing cache for jest to go by): the CPU-heavy
// ones (simulated days, fuzzing) alternate with ones that mostly wait on real timers, so that two
// cores stay busy without the heavy ones fighting each other.
const Sequencer = require('@jest/test-sequencer').default;

const FIRST = [
  'long-run',
  'fleet',
  'fuzz',
  'background-refresh',
  'chaos',
  'onelogin',
  'clock-faults',
  'retry',
  'bench',
  'lifecycle',
  'redis-store',
  'examples',
  'dispose',
];
const rank = (path) => {
  const index = FIRST.findIndex((name) => path.endsWith(`/${name}.test.ts`));
  return index < 0 ? FIRST.length : index;
};

class SlowFirst extends Sequencer {
  sort(tests) {
    return [...tests].sort((a, b) => rank(a.path) - rank(b.path));
  }
}

module.exports = SlowFirst;
