// Three levels (docs/style.md): unit specs need nothing, integration specs a real
// PostgreSQL, e2e specs both apps with a real Kafka broker and PostgreSQL.
const moduleNameMapper = {
  '^@app/(contracts|projections|filters|persistence|logging)$': '<rootDir>/libs/$1/src',
  '^@app/(contracts|projections|filters|persistence|logging)/(.*)$': '<rootDir>/libs/$1/src/$2',
};
const transform = { '^.+\\.ts$': ['ts-jest', { diagnostics: true }] };
const common = { rootDir: __dirname, moduleFileExtensions: ['ts', 'js', 'json'], moduleNameMapper, transform, testEnvironment: 'node' };

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
