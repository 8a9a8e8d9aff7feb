// ESLint flat config. Syntax-only typescript-eslint rules (no type information) to keep `npm run lint` fast.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const CORE_IS_FRAMEWORK_FREE =
  '@tidings/core must know nothing of NestJS, brokers, databases or the other @tidings packages: ' +
  'put this code in @tidings/nestjs, @tidings/testing or an adapter, and depend on a core interface here.';

export default defineConfig(
  globalIgnores(['**/dist/', '**/node_modules/', '**/coverage/', '**/*.d.ts', '.tmp/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // `_`-prefixed names are deliberately unused (arguments, omitted destructured fields, caught errors).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts'],
    languageOptions: { globals: { ...globals.jest } },
  },
  {
    files: ['libs/core/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^@nestjs/', message: CORE_IS_FRAMEWORK_FREE },
            { regex: '^@tidings/', message: CORE_IS_FRAMEWORK_FREE },
            { regex: '^(amqplib|pg|typeorm)(/|$)', message: CORE_IS_FRAMEWORK_FREE },
          ],
        },
      ],
    },
  },
);
