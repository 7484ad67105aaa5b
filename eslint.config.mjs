// House rules that a reviewer should not have to remember: core never imports `vscode`,
// webviews only import types from the protocol.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'test-artifacts/**', 'examples/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' }],
    },
  },
  {
    files: ['src/core/**', 'src/cli/**', 'src/protocol/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'Only src/extension may import vscode: core and CLI run without an editor.' }],
        patterns: [{ group: ['**/extension/**'], message: 'Core and CLI must not depend on the extension.' }],
      }],
    },
  },
  {
    files: ['src/protocol/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'Protocol files are shared with webviews: no vscode.' }],
        patterns: [{ group: ['node:*', '**/core/**', '**/extension/**'], message: 'Protocol files only depend on zod.' }],
      }],
    },
  },
  {
    files: ['webviews/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'Webviews run in a browser sandbox: talk to the extension through the protocol.' }],
        patterns: [
          { group: ['**/core/**', '**/extension/**', 'node:*'], message: 'Webviews may only import from src/protocol.' },
        ],
      }],
    },
  },
  {
    files: ['webviews/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs', '*.config.ts', 'scripts/**', 'bench/**', 'test/**'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
