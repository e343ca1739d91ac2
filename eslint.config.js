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
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'renderer/dist/**', 'renderer/dev/dist/**', '**/*.svelte'] },
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
  // renderer/: only renderer/, the types of electron/ipc-contract.ts, and the pure contract/schema modules
  // server/protocol/ and server/config/schema.ts (zod, for field validation). Regexes, because a bare
  // 'electron' gitignore pattern would also match the path segment of electron/ipc-contract.ts.
  {
    files: ['renderer/**'],
    ignores: ['renderer/*.config.ts', 'renderer/dev/*.mjs'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeBuiltins, message: 'renderer/ runs in the browser: no Node built-ins.' },
            { regex: '^electron$', message: 'renderer/ never imports electron.' },
            { regex: '(^|/)electron/(?!ipc-contract\\.ts(\\?raw)?$)', message: 'renderer/ imports only the IPC contract of electron/.' },
            { regex: '(^|/)electron/ipc-contract\\.ts$', allowTypeImports: true, message: 'renderer/ imports only the types of electron/ipc-contract.ts.' },
            { regex: '(^|/)server/(?!protocol/|config/schema\\.ts(\\?raw)?$)', message: 'renderer/ imports only server/protocol/ and server/config/schema.ts of the relay.' },
          ],
        },
      ],
    },
  },
);
