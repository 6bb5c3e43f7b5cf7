// Lint rules for pve-k3s: typescript-eslint's recommended set, plus the project's own habits.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      'no-control-regex': 'off',
      'no-regex-spaces': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
    },
  },
  {
    // A failure a user or an outage can cause is a typed error (src/domain/errors.ts) that says
    // what happened and what to do; the CLI prints a bare Error as "this is a bug in pve-k3s".
    // What can only be a bug is said with invariant() or BugError.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "ThrowStatement > NewExpression[callee.name='Error']",
          message:
            'Throw a typed error from src/domain/errors.ts (UsageError, RunError, KubeError, FileError...) that says what happened and what to do; for a broken invariant use invariant() or BugError.',
        },
        {
          selector: "CallExpression[callee.property.name='abort'] > NewExpression[callee.name='Error']",
          message: 'Abort with a typed reason (InterruptedError): the reason is what the aborted step throws.',
        },
      ],
    },
  },
  {
    // Issue 11: more than three parameters take one options object (named at the call site).
    files: ['src/**/*.ts'],
    rules: { '@typescript-eslint/max-params': ['error', { max: 3 }] },
  },
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['scripts/**/*.mjs', '*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
