// Lint = the layering rules of DESIGN.md §2 as a check, plus typescript-eslint's recommended set.
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['node:*', 'fs', 'path', 'net', 'os', 'child_process', 'crypto', 'dns', 'tls'];

/** Restrict imports for files under `files` to keep the data flows one-directional. */
function forbid(files, patterns, message) {
  return {
    files,
    rules: {
      'no-restricted-imports': ['error', { patterns: patterns.map((group) => ({ group: [group], message })) }],
    },
  };
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'renderer/dist/**', '**/*.svelte'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  forbid(['server/**'], ['**/electron/**', '**/renderer/**', 'electron'], 'server/ never imports the app (DESIGN.md §2).'),
  forbid(
    ['server/protocol/**'],
    [...nodeBuiltins, '**/config/!(schema|value-checks).ts', '**/smtp/**', '**/queue/**', '**/delivery/**', '**/control/**', '**/policy/**'],
    'server/protocol is a pure contract module: no Node built-ins, no server internals.',
  ),
  forbid(['electron/services/**'], ['electron', '**/electron/main/**', '**/renderer/**'], 'electron/services runs under plain Node: it never imports electron.'),
  forbid(['renderer/**'], [...nodeBuiltins, 'electron', '**/electron/main/**', '**/electron/services/**', '**/server/*/!(protocol)**'], 'renderer/ imports only renderer/ and contract types.'),
);
