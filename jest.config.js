// Three levels (docs/style.md): unit specs need nothing, integration specs a real
// PostgreSQL, e2e specs both apps with a real Kafka broker and PostgreSQL.
const moduleNameMapper = {
  '^@app/(contracts|projections|filters|persistence|logging)$': '<rootDir>/libs/$1/src',
  '^@app/(contracts|projections|filters|persistence|logging)/(.*)$': '<rootDir>/libs/$1/src/$2',
};
const transform = { '^.+\\.ts$': ['ts-jest', { diagnostics: true }] };
// Each module runs in a vm context, where every read of a global (Math, Number, Map...) goes
// through the context's interceptor: ~100x a plain call (jestjs/jest#15502). Handed to each module
// as a parameter instead, the specs' own clients (kafkajs, the workload, the oracle) run at Node's
// speed. The same objects as the context's globals; none that a module might redeclare (Buffer, Promise).
const sandboxInjectedGlobals = ['Math', 'Number', 'String', 'Array', 'Object', 'Map', 'Set', 'Date', 'JSON', 'Symbol', 'BigInt', 'isNaN', 'parseInt', 'parseFloat', 'Uint8Array', 'ArrayBuffer', 'DataView'];
const common = { rootDir: __dirname, moduleFileExtensions: ['ts', 'js', 'json'], moduleNameMapper, transform, testEnvironment: 'node', sandboxInjectedGlobals };

module.exports = {
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testSequencer: '<rootDir>/test/sequencer.js',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,scripts,infra,bench,test}/**/*.spec.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/{apps,libs,scripts,infra}/**/*.int-spec.ts'], setupFilesAfterEnv: ['<rootDir>/test/integration-setup.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'], setupFilesAfterEnv: ['<rootDir>/test/e2e-setup.ts'] },
  ],
};
