// `--env-file <path>`: dotenv syntax, read with Node's own parser. A file every user can read is
// refused for the same reason as a secret on argv; one the group can read gets a warning.
import { readFileSync, statSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { CliError } from './exit-codes';

export function readEnvFile(path: string, warn: (message: string) => void): Record<string, string> {
  let text: string;
  let mode: number;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new CliError('invalid_config', `--env-file: cannot read ${path} (${typeof code === 'string' ? code : 'unreadable'})`);
  }
  // Windows has no such permission bits: nothing to judge there.
  if (process.platform !== 'win32') {
    if (mode & 0o004) throw new CliError('insecure_env_file', `--env-file: ${path} is readable by every user of this machine; run chmod 600 ${path}`);
    if (mode & 0o040) warn(`warning: --env-file ${path} is readable by its group; chmod 600 ${path} keeps its secrets to you`);
  }
  const parsed = parseEnv(text) as Record<string, string>;
  return Object.fromEntries(Object.entries(parsed).filter(([, value]) => typeof value === 'string'));
}
