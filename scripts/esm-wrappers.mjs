// After tsc: the ESM side of dist/.
//
// Run time: each entry point's .mjs re-exports the CommonJS build, so `import` and `require`
// share one copy of every class (an `instanceof TokenError` check works across both).
//
// Types: every dist/**/*.d.ts gets a .d.mts twin whose relative specifiers name `.mjs` files, so
// an ES module consumer's TypeScript (node16/nodenext) reads the whole declaration graph in ESM
// mode. Re-exporting the .d.ts instead would read it as CommonJS, where `import ... from 'axios'`
// resolves to axios's index.d.cts while the app's own `axios` resolves to its index.d.ts: two
// unrelated AxiosInstance types, and `tokens.attach(axios.create())` fails with TS2345.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const require = createRequire(import.meta.url);
const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const entries = ['index', 'testing/index', 'redis/index'];

for (const entry of entries) {
  const names = Object.keys(require(join(dist, `${entry}.js`))).filter((name) => name !== 'default' && name !== '__esModule');
  const file = entry.split('/').pop();
  writeFileSync(join(dist, `${entry}.mjs`), `import cjs from './${file}.js';\nexport const { ${names.join(', ')} } = cjs;\n`);
}

const declarations = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.d.ts'));
for (const name of declarations) {
  const path = join(dist, name);
  writeFileSync(path.replace(/\.d\.ts$/, '.d.mts'), toEsm(readFileSync(path, 'utf8'), path));
}
for (const entry of entries) {
  if (!existsSync(join(dist, `${entry}.d.mts`))) throw new Error(`esm-wrappers: tsc emitted no dist/${entry}.d.ts`);
}

/** `text` of the declaration file at `path`, with every relative module specifier pointing at a .d.mts twin. */
function toEsm(text, path) {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  /** [start, end, replacement], in any order. */
  const edits = [];
  const literal = (node) => {
    if (node && ts.isStringLiteral(node) && node.text.startsWith('.')) {
      edits.push([node.getStart(source) + 1, node.getEnd() - 1, esmSpecifier(node.text, path)]);
    }
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) literal(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) literal(node.moduleReference.expression);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) literal(node.argument.literal);
    else if (ts.isModuleDeclaration(node)) literal(node.name);
    ts.forEachChild(node, visit);
  };
  visit(source);
  // `/// <reference path="./x.d.ts" />`: the .d.mts twin. (`types=` and `lib=` references name packages.)
  for (const reference of source.referencedFiles) {
    if (!reference.fileName.endsWith('.d.ts')) throw new Error(`esm-wrappers: ${relative(dist, path)}: unexpected reference path ${reference.fileName}`);
    const at = text.indexOf(reference.fileName, reference.pos);
    edits.push([at, at + reference.fileName.length, reference.fileName.replace(/\.d\.ts$/, '.d.mts')]);
  }
  edits.sort((a, b) => b[0] - a[0]);
  let out = text;
  for (const [start, end, replacement] of edits) out = out.slice(0, start) + replacement + out.slice(end);
  return out;
}

/** `./x` → `./x.mjs`, `./dir` → `./dir/index.mjs`, `./x.js` → `./x.mjs`: TypeScript reads `./x.d.mts` for each. */
function esmSpecifier(specifier, from) {
  const target = join(dirname(from), specifier);
  const bare = specifier.replace(/\.js$/, '');
  if (existsSync(`${target.replace(/\.js$/, '')}.d.ts`)) return `${bare}.mjs`;
  if (existsSync(join(target, 'index.d.ts'))) return `${specifier.replace(/\/$/, '')}/index.mjs`;
  throw new Error(`esm-wrappers: ${relative(dist, from)}: cannot tell which declaration file ${JSON.stringify(specifier)} names`);
}
