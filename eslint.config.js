import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Globals of the browser scripts (the client and the sample page), listed here rather than
// taken from a package so the lint setup needs nothing more.
const browserGlobals = Object.fromEntries(
  [
    'AbortController',
    'Blob',
    'CustomEvent',
    'Document',
    'DOMException',
    'Event',
    'EventSource',
    'File',
    'FormData',
    'HTMLElement',
    'HTMLFormElement',
    'HTMLInputElement',
    'HTMLProgressElement',
    'TextEncoder',
    'URL',
    'XMLHttpRequest',
    'btoa',
    'clearTimeout',
    'document',
    'fetch',
    'localStorage',
    'performance',
    'setTimeout',
    'window',
  ].map((name) => [name, 'readonly']),
);

export default tseslint.config(
  // .tmp/ holds CI's caches, the Node 24 copy of the checkout among them.
  { ignores: ['node_modules/', 'dist/', 'build/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    files: ['client/**/*.js', 'sample/app/page/**/*.js'],
    languageOptions: { globals: browserGlobals },
  },
);
