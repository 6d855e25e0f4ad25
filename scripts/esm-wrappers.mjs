// Writes the ESM entry points: each re-exports the CommonJS build, so `import` and `require`
// share one copy of every class (an `instanceof TokenError` check works across both).
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const entries = ['index', 'testing/index', 'redis/index'];

for (const entry of entries) {
  const names = Object.keys(require(`../dist/${entry}.js`)).filter((name) => name !== 'default' && name !== '__esModule');
  const file = entry.split('/').pop();
  writeFileSync(
    new URL(`../dist/${entry}.mjs`, import.meta.url),
    `import cjs from './${file}.js';\nexport const { ${names.join(', ')} } = cjs;\n`,
  );
  writeFileSync(new URL(`../dist/${entry}.d.mts`, import.meta.url), `export * from './${file}.js';\n`);
}
