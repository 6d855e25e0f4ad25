// Which copy of axios made a request. An ES module app's `import axios` and this package's
// CommonJS `require('axios')` load two copies of axios, each with its own classes: an error made
// with ours is not `instanceof` the app's AxiosError, and ours resolves adapters of its own. Where
// a request must be finished by us (it waited for a token), we finish it with the copy that made it.
import * as commonjs from 'axios';
import { noop } from '../core/clock';

export interface AxiosCopy {
  readonly AxiosHeaders: typeof commonjs.AxiosHeaders;
  readonly AxiosError: typeof commonjs.AxiosError;
  readonly getAdapter: typeof commonjs.getAdapter;
}

const ours: AxiosCopy = commonjs;
const copies: AxiosCopy[] = [ours];
let loading: Promise<void> | undefined;

/**
 * Learn the ES module copy, once, the first time a request needs it (a CommonJS app never does:
 * jest's world, for one, has only ours).
 */
function loadCopies(): Promise<void> {
  loading ??= import('axios').then((module: { default?: unknown }) => {
    const copy = (module.default ?? module) as AxiosCopy;
    if (typeof copy?.getAdapter === 'function' && !copies.some((known) => known.AxiosHeaders === copy.AxiosHeaders)) copies.push(copy);
  }, noop);
  return loading;
}

/** The copy of axios whose AxiosHeaders built `headers` (ours when none of the known ones did). */
export async function axiosCopyOf(headers: unknown): Promise<AxiosCopy> {
  await loadCopies();
  return copies.find((copy) => headers instanceof copy.AxiosHeaders) ?? ours;
}
