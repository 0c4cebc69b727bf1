// ESLint, flat config. Why ESLint + typescript-eslint rather than Biome: the type-aware rules
// (no-floating-promises, no-misused-promises, await-thenable) are what catch a forgotten `await`,
// and issue 8 turns every database call into a promise. ESLint's own no-restricted-imports only
// sees static imports, so the layer rules below are also written as no-restricted-syntax
// selectors for import(), require() and `import('…')` types: one list of forbidden specifiers
// feeds both rules. Formatting is Prettier's job (.prettierrc.json); nothing here checks style.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const TS_FILES = ['**/*.ts', '**/*.tsx'];
const JS_FILES = ['**/*.js', '**/*.mjs'];
const TEST_FILES = ['test/**', 'src/**/*.test.ts', 'src/**/*.test.tsx'];

// ---------------------------------------------------------------------------------------------
// Layers (house-style.md, rule 1). Only src/db/ talks to the database; everything above it goes
// through the storage boundary (src/db/store.ts) and opens it with src/db/open-store.ts. Only
// src/wix/ imports the Wix SDK. Tests and bench/ may import anything.

const DB_MESSAGE = 'Only src/db/ talks to the database: use the RegistryStore interface (src/db/store.ts), opened by src/db/open-store.ts.';
const WIX_MESSAGE = 'Only src/wix/ imports @wix/*: ask a src/wix/ service for what you need.';

/**
 * Forbidden module specifiers, as regular expressions over the specifier as written. A relative
 * specifier is forbidden when it names a module in a folder called `db` other than the four
 * boundary files: the interface, opening it, what DATABASE_URL means (config.ts reads it), and
 * copying it (`wix-registry backup`).
 * There is no other `db` folder in src/. `\x2F` is `/`: esquery selectors
 * cannot hold a literal slash inside a regular expression.
 */
const DB_SPECIFIERS = [
  String.raw`^(better-sqlite3|pg|drizzle-orm)(\x2F|$)`,
  String.raw`^\.\.?\x2F(.*\x2F)?db\x2F(?!(store|open-store|database-url|backup)\.ts$)`,
];
const WIX_SPECIFIERS = [String.raw`^@wix\x2F`];

/** The rules that enforce the chosen layers, for static, dynamic and type-only imports alike. */
function layerRules({ db, wix }) {
  const forbidden = [
    ...(db ? DB_SPECIFIERS.map((regex) => ({ regex, message: DB_MESSAGE })) : []),
    ...(wix ? WIX_SPECIFIERS.map((regex) => ({ regex, message: WIX_MESSAGE })) : []),
  ];
  if (forbidden.length === 0) return { '@typescript-eslint/no-restricted-imports': 'off', 'no-restricted-syntax': 'off' };
  return {
    // import … from, import type … from, export … from, import x = require(), across any number of lines.
    '@typescript-eslint/no-restricted-imports': ['error', { patterns: forbidden.map(({ regex, message }) => ({ regex, message })) }],
    'no-restricted-syntax': [
      'error',
      ...forbidden.flatMap(({ regex, message }) => [
        { selector: `ImportExpression[source.value=/${regex}/]`, message },
        { selector: `CallExpression[callee.name='require'][arguments.0.value=/${regex}/]`, message },
        { selector: `TSImportType[argument.literal.value=/${regex}/]`, message },
      ]),
      {
        selector: "ImportExpression[source.type!='Literal']",
        message: 'import() of a computed specifier hides what it loads from the layer rules: import a string literal.',
      },
    ],
  };
}

export default defineConfig(
  globalIgnores(['data/', 'coverage/', 'bench/results/', 'test-artifacts/', '.scratch/', 'migrations/', 'client/dist/']),

  js.configs.recommended,
  // The plugin everywhere: the layer rules use its no-restricted-imports in .js files too.
  { plugins: { '@typescript-eslint': tseslint.plugin } },
  {
    files: TS_FILES,
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `const { sort: _sort, ...rest } = x` drops keys on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // An `async` function with no `await` is how a synchronous implementation (a fake, an
      // in-process store) keeps an async interface; no-floating-promises guards the callers.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: JS_FILES,
    languageOptions: { globals: globals.node },
  },
  {
    // Control characters in these regular expressions are the point: output is escaped or
    // refused because of them (terminal rows, redirect targets).
    rules: { 'no-control-regex': 'off' },
  },
  {
    // House style: named exports only. Tool configs (this file, vitest, drizzle-kit) need a default export.
    files: ['src/**', 'test/**', 'bench/**'],
    rules: {
      'no-restricted-exports': [
        'error',
        { restrictDefaultExports: { direct: true, named: true, defaultFrom: true, namedFrom: true, namespaceFrom: true } },
      ],
    },
  },
  {
    // Type declarations for an untyped package describe its default export as it is.
    files: ['test/types/**/*.d.ts'],
    rules: { 'no-restricted-exports': 'off' },
  },
  {
    // Tests read `await res.json()` (any) and poke at what came back; that is what they are for.
    files: TEST_FILES,
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },

  // Layers: everything in src/ and bin/ outside src/db/ (src/wix/ may use @wix/*). bin/run-ts.js
  // is a development tool that runs whatever .ts file it is given.
  {
    files: ['src/**', 'bin/**'],
    ignores: ['src/db/**', 'src/wix/**', 'bin/run-ts.js', ...TEST_FILES],
    rules: layerRules({ db: true, wix: true }),
  },
  { files: ['src/wix/**'], ignores: TEST_FILES, rules: layerRules({ db: true, wix: false }) },
);
