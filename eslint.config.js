import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '**/dist/**', '.forge/**', 'out/**', 'renderer/dist/**', 'test-results/**', 'bench/out/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // CommonJS entry points (bin/forge.cjs): they set the environment before any ES module loads.
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // Module boundaries. The engine never imports node code: entry points compose the registry
  // (composition/registry.ts). Engine tests are entry points too, so they may.
  {
    files: ['engine/**/*.ts'],
    ignores: ['engine/test/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '(^|/)nodes(/|$)', message: 'engine/ must not import nodes/: the entry points build the registry (composition/registry.ts).' },
            { regex: '(^|/)composition(/|$)', message: 'engine/ must not import the composition root; take a NodeRegistry as a parameter.' },
          ],
        },
      ],
    },
  },
  // Node code sees the engine only through its SDK, so engine internals can change freely (and
  // stay out of node code hashes). Tests and test harnesses drive whole engines, so they may.
  {
    files: ['nodes/**/*.ts'],
    ignores: ['nodes/**/*.test.ts', 'nodes/**/testing.ts', 'nodes/**/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^(\\.\\./)+engine/(?!sdk/)', message: 'nodes/ may import the engine only through engine/sdk/.' },
            { regex: '(^|/)composition(/|$)', message: 'node code must not import the composition root.' },
          ],
        },
      ],
    },
  },
);
