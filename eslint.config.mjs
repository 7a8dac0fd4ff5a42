// typescript-eslint's recommended rules, type-checked (docs/style.md "Tooling"): lost
// promises, awaiting non-promises, `any` leaking out of JSON, Object's toString in text.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'web/**', 'coverage/**', '.data/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // kafkajs handlers and jest callbacks must return promises; an async body without await is harmless.
      '@typescript-eslint/require-await': 'off',
      // kafkajs hands its batch helpers (heartbeat, resolveOffset, ...) as closures, made to be destructured.
      '@typescript-eslint/unbound-method': 'off',
      // A variable a callback reads before start-up assigns it cannot be const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Tests, the bench and local infra read their own JSON reports; product inputs go through zod instead.
    files: ['test/**', 'bench/**', 'infra/**', '**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Scenario refs and fixture fields are JSON scalars typed unknown.
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/no-redundant-type-constituents': 'off',
      // DataSource.query returns `any` rows; asserting their row type reads better than a type argument.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
);
