// ESLint for the TypeScript sources, tests and scripts, as the anchor actions
// lint theirs: the recommended rules of ESLint and typescript-eslint.
// Formatting is Prettier's (.prettierrc.json), not ESLint's.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config({ ignores: ['dist/', 'node_modules/', 'coverage/'] }, js.configs.recommended, ...tseslint.configs.recommended, {
  languageOptions: {
    globals: {
      process: 'readonly',
      console: 'readonly',
      Buffer: 'readonly',
      setTimeout: 'readonly',
      clearTimeout: 'readonly',
      setInterval: 'readonly',
      clearInterval: 'readonly',
      URL: 'readonly',
      AbortSignal: 'readonly',
      AbortController: 'readonly',
      fetch: 'readonly',
      TextDecoder: 'readonly',
      TextEncoder: 'readonly',
      setImmediate: 'readonly'
    }
  },
  rules: {
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }]
  }
})
