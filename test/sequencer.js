// The e2e specs run in parallel workers: the longest start first, so that none of them
// is left running alone at the end. A clean clone has no timings cached, and Jest would
// order by file size; after a run, its cached timings order the rest.
const Sequencer = require('@jest/test-sequencer').default;

const LONGEST_FIRST = ['bench.e2e-spec', 'cluster-standbys', 'parity.e2e-spec', 'cluster-broker-kill', 'http-fuzz', 'cluster-primary-failover', 'cluster-instance-churn', 'crash-loop', 'cluster-infra', 'rebalance-churn', 'broker-restart', 'stack-cluster', 'prefect-client', 'web.e2e-spec', 'crash.e2e-spec'];

class LongestFirst extends Sequencer {
  async sort(tests) {
    const sorted = await super.sort(tests);
    const rank = (test) => {
      const i = LONGEST_FIRST.findIndex((name) => test.path.includes(name));
      return i < 0 ? LONGEST_FIRST.length : i;
    };
    return sorted.map((test, i) => ({ test, i })).sort((a, b) => rank(a.test) - rank(b.test) || a.i - b.i).map(({ test }) => test);
  }
}

module.exports = LongestFirst;
