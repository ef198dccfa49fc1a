// Lint with type information: floating and misused promises, exhaustive switches, and import cycles.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'artifacts/**', 'bench/results/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [] },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'no-console': 'error',
    },
  },
  // Rooms and doors (DESIGN.md): who may depend on whom, in product code.
  ...roomsAndDoors(),
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // Tests and tools may print what they did; services log through pino.
    files: ['**/test/**', 'scripts/**', 'bench/**', 'tools/**', '**/*.test.ts'],
    rules: { 'no-console': 'off' },
  },
);

function roomsAndDoors() {
  const sql = [
    { name: 'pg', message: 'only libs/store speaks SQL' },
    { name: 'mssql', message: 'only libs/store speaks SQL' },
  ];
  const sim = { group: ['@playledger/spotify-sim', '**/tools/**'], message: 'the product meets the simulator only over HTTP' };
  const services = { group: ['**/services/**', '@playledger/auth', '@playledger/extractor', '@playledger/validator', '@playledger/loader', '@playledger/api'], message: 'libraries never import a service' };
  const rule = (paths, patterns) => ({ 'no-restricted-imports': ['error', { paths, patterns }] });
  return [
    { files: ['libs/common/src/**'], rules: rule(sql, [sim, services, { group: ['@playledger/*', '../../*/src/**'], message: 'libs/common imports no other lib of the project' }]) },
    { files: ['libs/spotify/src/**'], rules: rule(sql, [sim, services]) },
    { files: ['libs/store/src/**'], rules: rule([], [sim, services]) },
    { files: ['services/validator/src/**'], rules: rule(sql, [sim, { group: ['@playledger/store', '@playledger/spotify', '**/services/**', '../../*/src/**'], message: 'the validator touches no database and no Spotify, and no other service' }]) },
    ...['auth', 'extractor', 'loader', 'api'].map((name) => ({
      files: [`services/${name}/src/**`],
      rules: rule(sql, [sim, { group: ['**/services/**', '../../*/src/**'], message: 'a service never imports another service: queues and HTTP only' }]),
    })),
  ];
}
