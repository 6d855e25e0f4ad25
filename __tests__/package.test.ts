// The built package (dist/, built by `npm test`'s pretest) as users get it: imported from ESM and
// required from CommonJS through the exports map, with type declarations for both.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(__dirname, '..');

beforeAll(() => {
  if (!existsSync(join(root, 'dist/index.js')) || !existsSync(join(root, 'dist/index.mjs'))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does it for you)');
  }
});

const flow = (load: string) => `
${load}
const sim = await startSimulator({ dialect: 'oauth2' });
const tokens = new TokenManager({ provider: clientCredentials({ tokenUrl: sim.tokenUrl, clientId: sim.clientId, clientSecret: sim.clientSecret, revocationUrl: sim.revokeUrl }) });
const token = await tokens.getToken();
await tokens.dispose();
await sim.close();
console.log(JSON.stringify({ token: typeof token, calls: sim.stats.tokenCalls, revoked: sim.stats.tokensRevoked, errorClass: typeof TokenError }));
`;

test('import from ESM', async () => {
  const code = flow(`import { TokenManager, TokenError, clientCredentials } from 'tokenwarden';\nimport { startSimulator } from 'tokenwarden/testing';`);
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: root });
  expect(JSON.parse(stdout)).toEqual({ token: 'string', calls: 1, revoked: 1, errorClass: 'function' });
});

test('require from CommonJS', async () => {
  const code = `(async () => {${flow(`const { TokenManager, TokenError, clientCredentials } = require('tokenwarden');\nconst { startSimulator } = require('tokenwarden/testing');`)}})();`;
  const { stdout } = await run(process.execPath, ['-e', code], { cwd: root });
  expect(JSON.parse(stdout)).toEqual({ token: 'string', calls: 1, revoked: 1, errorClass: 'function' });
});

test('tokenwarden/redis from ESM and from CommonJS', async () => {
  const esm = `import { redisStore } from 'tokenwarden/redis'; console.log(typeof redisStore);`;
  const cjs = `const { redisStore } = require('tokenwarden/redis'); console.log(typeof redisStore);`;
  expect((await run(process.execPath, ['--input-type=module', '-e', esm], { cwd: root })).stdout.trim()).toBe('function');
  expect((await run(process.execPath, ['-e', cjs], { cwd: root })).stdout.trim()).toBe('function');
});

test('import and require share one copy of each class (instanceof works across both)', async () => {
  const code = `
import { createRequire } from 'node:module';
import * as esm from 'tokenwarden';
const cjs = createRequire(process.cwd() + '/')('tokenwarden');
const error = new cjs.TokenError('disposed', 'x');
console.log(JSON.stringify({ same: esm.TokenManager === cjs.TokenManager, instance: error instanceof esm.TokenError, names: Object.keys(esm).length === Object.keys(cjs).length }));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: root });
  expect(JSON.parse(stdout)).toEqual({ same: true, instance: true, names: true });
});

test('type declarations resolve for ESM and CommonJS consumers', async () => {
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  const args = ['--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022', '--skipLibCheck', '--types', 'node'];
  const fixtures = ['__tests__/fixtures/consumer.mts', '__tests__/fixtures/consumer.cts'];
  await expect(run(process.execPath, [tsc, ...args, ...fixtures], { cwd: root })).resolves.toBeDefined();
}, 60_000);
