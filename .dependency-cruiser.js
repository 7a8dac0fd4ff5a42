// The layer rules of docs/style.md ("Dependency direction"), checked by `npm run deps:validate`.
// Product code is apps/, libs/ and scripts/; test/, bench/ and infra/ drive it from outside.
const TEST_CODE = '(^test/|\\.(int-|e2e-)?spec\\.ts$|/testing/)';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle makes load order (and so undefined imports) depend on who is imported first.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'contracts-imports-nothing-of-ours',
      severity: 'error',
      comment: 'libs/contracts is the bottom layer: the event wire format, shared by everything else.',
      from: { path: '^libs/contracts/' },
      to: { path: '^((apps|scripts|test|bench|infra)/|libs/(?!contracts/))' },
    },
    {
      name: 'logging-imports-nothing-of-ours-and-only-apps-import-it',
      severity: 'error',
      comment: 'libs/logging adapts Nest\'s logger to pino for both apps; the other libs stay free of Nest.',
      from: { path: '^(libs/(?!logging/)|scripts/|bench/)' },
      to: { path: '^libs/logging/' },
    },
    {
      name: 'logging-is-a-leaf',
      severity: 'error',
      from: { path: '^libs/logging/' },
      to: { path: '^((apps|scripts|test|bench|infra)/|libs/(?!logging/))' },
    },
    {
      name: 'pure-libs-without-nest-or-typeorm',
      severity: 'error',
      comment: 'Projections and filters are pure event/filter -> SQL functions (docs/style.md "A projection").',
      from: { path: '^libs/(projections|filters)/' },
      to: { path: '(^|/)node_modules/(@nestjs/|typeorm/)' },
    },
    {
      name: 'pure-libs-name-only-the-statement-type',
      severity: 'error',
      comment: 'Projections and filters build SQL statements (and read which columns the tally counts and how a row is stored as JSON); running them (and TypeORM) stays in persistence.',
      from: { path: '^libs/(projections|filters)/', pathNot: TEST_CODE },
      to: { path: '^libs/persistence/', pathNot: '^libs/persistence/src/(statement|tally|artifact-json)\\.ts$' },
    },
    {
      name: 'only-persistence-imports-typeorm',
      severity: 'error',
      comment: 'TypeORM owns connections, transactions and migrations, behind libs/persistence.',
      from: { path: '^(apps|libs|scripts|bench)/', pathNot: '^libs/persistence/' },
      to: { path: '(^|/)node_modules/typeorm/' },
    },
    {
      name: 'kafkajs-behind-one-adapter',
      severity: 'error',
      comment: 'kafkajs is unmaintained; swapping the client must cost the ingest adapter and the scripts\' kafka module.',
      from: { path: '^(apps|libs|scripts)/', pathNot: '^(apps/ingest/src/kafka/|scripts/events/kafka\\.ts$)' },
      to: { path: '(^|/)node_modules/kafkajs/' },
    },
    {
      name: 'apps-never-import-each-other',
      severity: 'error',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'libs-import-no-apps',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'tools-import-no-app-internals',
      severity: 'error',
      comment: 'Scripts and the bench use the libs; the apps are reached as processes or over HTTP.',
      from: { path: '^(scripts|bench)/' },
      to: { path: '^apps/' },
    },
    {
      name: 'product-code-imports-no-test-code',
      severity: 'error',
      from: { path: '^(apps|libs|scripts|bench|infra)/', pathNot: TEST_CODE },
      to: { path: TEST_CODE },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    reporterOptions: { text: { highlightFocused: true } },
  },
};
