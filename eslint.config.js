import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    // package-hosts/ are projects of their own, compiled and run against the packed tarball with
    // their own dependencies by scripts/check-package.js.
    ignores: [
      'dist/',
      'build/',
      '.*-build/',
      'node_modules/',
      'qb-*.mjs',
      'scripts/package-hosts/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test runs suites and tests itself; their returned promises need no handling.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Fake timers (Jest's, Vitest's: @sinonjs/fake-timers) replace the global clocks only, so the
    // module's scheduling, cooldowns and health must read those, never perf_hooks' own copy.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        ...['perf_hooks', 'node:perf_hooks'].map((name) => ({
          name,
          importNames: ['performance'],
          message: 'Use the global performance: fake timers in host tests replace only that one.',
        })),
      ],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly' },
    },
  },
  prettier,
);
