import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'libs/auth-client/dist/',
      'coverage/',
      'node_modules/',
      'libs/database/src/generated/',
      '.data/',
      'bench/out/',
    ],
  },
  js.configs.recommended,
  // Type-aware: every TypeScript file is linted with the types of the tsconfig.json nearest to it
  // (the root one; the example frontend's own), so promise misuse and unsafe `any` flows are seen.
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node, ...globals.jest },
      parserOptions: {
        projectService: { allowDefaultProject: ['apps/example-frontend/vite.config.mts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'off',
      // A promise is awaited, returned, or explicitly `void`ed where fire-and-forget is meant.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // `return await` inside try/catch, so the catch sees the rejection; nowhere else.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // A rejection passes on an Error, or forwards a value of unknown type as received (a callback's
      // error, an AbortSignal's reason), as only-throw-error allows for `throw`.
      '@typescript-eslint/prefer-promise-reject-errors': [
        'error',
        { allowThrowingAny: true, allowThrowingUnknown: true },
      ],
      'no-console': 'off',
    },
  },
  {
    // The configuration and build scripts are plain JavaScript outside every tsconfig.
    files: ['**/*.{js,mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // The example frontend runs in the browser (its own tsconfig, lib DOM).
    files: ['apps/example-frontend/src/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // Tests read response bodies and fixtures as `any` and stub promise-returning interfaces with
    // `async` functions; the promise rules above apply to them unchanged.
    files: ['test/**/*.ts', '**/*.spec.ts', '**/*.e2e-spec.ts', '**/testing/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  prettier,
);
