// Lint: typescript-eslint's recommended rules over src/ and test/ (formatting is Prettier's job).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config({ ignores: ['dist/', 'bench/', 'node_modules/', '.tmp/'] }, js.configs.recommended, ...tseslint.configs.recommended, {
  languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
  rules: {
    // `_`-prefixed names are deliberately unused (type-level checks, placeholders).
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    // Control characters in regexes are the point where CR/LF/NUL are refused.
    'no-control-regex': 'off',
  },
});
