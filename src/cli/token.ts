// `tokenwarden token`: the access token and a newline on stdout, nothing else, for
// `curl -H "Authorization: Bearer $(tokenwarden token)"`.
import { chooseProvider, environment } from './credentials';
import { managerFor, type Io, type RunFlags } from './session';

export async function token(flags: RunFlags, io: Io): Promise<void> {
  const chosen = chooseProvider(flags, environment(flags, io.err));
  const manager = managerFor(chosen, flags);
  try {
    const value = await manager.getToken();
    io.out(`${value}\n`);
  } finally {
    // The token was handed out to be used: never revoke it on the way out.
    await manager.dispose({ revoke: false });
  }
}
