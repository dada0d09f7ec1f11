// Lint as architecture: a service may import libs/* but never another service's code, libs never
// import services, and no promise is left floating.
import tseslint from 'typescript-eslint';

const SERVICES = ['crm', 'ingestion', 'segmentation', 'journeys', 'messaging', 'analytics'];

/** Imports a file in `owner` (a service name, or null for libs) must not make. */
function boundaryRule(owner) {
  const others = SERVICES.filter((s) => s !== owner);
  return [
    'error',
    {
      patterns: [
        { group: others.map((s) => `@tessera/${s}`), message: 'Services talk only through @tessera/contracts (events and requests), never by importing each other.' },
        { group: ['**/apps/**', ...others.map((s) => `**/${s}/src/**`)], message: "Do not import another service's code; use @tessera/contracts." },
        { group: ['**/libs/*/src/**', '@tessera/*/src/**'], message: 'Import a lib by its package name (@tessera/<lib>), not by path.' },
      ],
    },
  ];
}

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/generated/**', '.tessera/**', '.nx/**', 'docs/**', '**/*.mjs', '**/*.js'] },
  {
    files: ['**/*.ts', '**/*.mts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false, arguments: false } }],
      '@typescript-eslint/ban-ts-comment': ['error', { 'ts-ignore': 'allow-with-description', 'ts-expect-error': 'allow-with-description' }],
      'no-restricted-imports': boundaryRule(null),
    },
  },
  ...SERVICES.map((service) => ({ files: [`apps/${service}/**/*.ts`], rules: { 'no-restricted-imports': boundaryRule(service) } })),
);
