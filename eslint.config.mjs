// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '.cache/**',
      '.stack/**',
      '.nx/**',
      'coverage/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      // Services import libs (through their index), never each other; libs never import services.
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          banTransitiveDependencies: false,
          depConstraints: [
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:bench', onlyDependOnLibsWithTags: ['type:lib'] },
            // Command-line tools (tools/*) act through libs and the platform's APIs, never a service.
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib'] },
            // End-to-end tests run services as processes; they import only libs.
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'kafkajs',
              message:
                'Produce through the outbox and consume through the inbox in @tenantry/events.',
            },
          ],
          patterns: [
            {
              group: ['@tenantry/*/src/*', '@tenantry/*/src'],
              message: 'Import a lib only through its index.',
            },
          ],
        },
      ],
    },
  },
  {
    // The one place that talks to Kafka directly; benchmarks measure raw kafkajs as their baseline.
    files: ['libs/events/**/*.ts', 'libs/testing/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // Command-line entry points and the local stack talk to a terminal.
    files: ['**/cli/**/*.ts', 'bench/**/*.ts', 'deploy/**/*.mjs', '**/*.spec.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    // Plain Node scripts: the local stack (ESM) and tool configs (CommonJS).
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
