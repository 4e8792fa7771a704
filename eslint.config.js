import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // course packages (content/**/cmi5/) are content: third-party browser code, not Onramp's
  { ignores: ['dist/', 'node_modules/', 'data/', 'coverage/', 'content/**/cmi5/**', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // the few scripts pages load (public/js): plain browser JavaScript
  {
    files: ['public/js/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { window: 'readonly', document: 'readonly', localStorage: 'readonly', fetch: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', JSON: 'readonly' },
    },
  },
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', fetch: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-namespace': 'off',
      'no-console': 'off',
    },
  },
  {
    // The engine is pure: rules only. The clock, content and records come in as arguments.
    files: ['src/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['express', 'express-*', 'mongoose', 'mongodb', 'bullmq', 'ioredis', 'pdfkit', 'handlebars', 'pino*'], message: 'src/engine is pure: no I/O libraries.' },
            { group: ['node:fs*', 'fs', 'fs/*', 'node:net', 'node:http', 'node:child_process'], message: 'src/engine is pure: no I/O.' },
            { group: ['../infra/*', '../features/*', '../http/*', '../jobs/*', '../container*'], message: 'src/engine depends on nothing but errors.ts.' },
          ],
        },
      ],
    },
  },
);
