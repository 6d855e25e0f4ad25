// The layout's arrows point down: the core knows no HTTP client, no vendor and no integration;
// the transport knows no integration; nothing but the simulator's own files reaches into testing/.
// And no source file grows past the size a reader can hold in their head.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = join(__dirname, '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** Every module a source file imports: relative ones as paths under src/, packages by name. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)[^'"]*from\s+'([^']+)'/gm), ...text.matchAll(/import\('([^']+)'\)/g)].map(([, spec]) =>
    spec!.startsWith('.') ? relative(SRC, resolve(dirname(file), spec!)) : spec!,
  );
}

const all = files(SRC).map((file) => ({ file: relative(SRC, file), imports: importsOf(file) }));
const under = (prefix: string) => all.filter(({ file }) => file.startsWith(prefix));

test.each([
  ['core/', ['integrations/', 'transport/', 'providers/', 'testing/', 'redis/', 'telemetry/', 'manager', 'options', 'axios']],
  ['telemetry/', ['core/', 'integrations/', 'transport/', 'providers/', 'testing/', 'redis/', 'manager', 'axios']],
  ['transport/', ['integrations/', 'providers/', 'testing/', 'redis/', 'manager']],
  ['utils/', ['core/', 'integrations/', 'transport/', 'providers/', 'testing/', 'redis/', 'manager', 'axios']],
  ['auth/', ['core/', 'integrations/', 'providers/', 'testing/', 'redis/', 'manager', 'axios']],
  ['providers/', ['integrations/', 'testing/', 'redis/', 'manager']],
  ['integrations/', ['providers/', 'testing/', 'redis/', 'manager', 'transport/']],
  ['redis/', ['integrations/', 'providers/', 'testing/', 'manager', 'transport/']],
])('%s imports nothing from the layers it must not know', (layer, forbidden) => {
  const crossings = under(layer).flatMap(({ file, imports }) =>
    imports.filter((spec) => forbidden.some((prefix) => spec === prefix || spec.startsWith(prefix))).map((spec) => `${file} -> ${spec}`),
  );
  expect(crossings).toEqual([]);
});

test('only the simulator imports from testing/, and the simulator imports nothing of the client (a client bug must show in its tests)', () => {
  const outside = all
    .filter(({ file }) => !file.startsWith('testing/'))
    // The one exception: cli/sim.ts runs the simulator standalone (`tokenwarden sim`); cli/main.ts
    // imports it lazily, so no other command loads the simulator.
    .filter(({ file }) => file !== 'cli/sim.ts')
    .flatMap(({ file, imports }) => imports.filter((spec) => spec === 'testing' || spec.startsWith('testing/')).map((spec) => `${file} -> ${spec}`));
  expect(outside).toEqual([]);
  const client = under('testing/').flatMap(({ file, imports }) =>
    imports.filter((spec) => !spec.startsWith('testing/') && !spec.startsWith('node:')).map((spec) => `${file} -> ${spec}`),
  );
  expect(client).toEqual([]);
});

test('only telemetry/ knows OpenTelemetry (an optional peer dependency, loaded only when asked for)', () => {
  const users = all.filter(({ imports }) => imports.some((spec) => spec.startsWith('@opentelemetry/'))).map(({ file }) => file);
  expect(users).toEqual(['telemetry/otel.ts']);
});

test('no source file is longer than 300 lines', () => {
  const long = all.map(({ file }) => ({ file, lines: readFileSync(join(SRC, file), 'utf8').split('\n').length })).filter(({ lines }) => lines > 300);
  expect(long).toEqual([]);
});
