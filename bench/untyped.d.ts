// axios-token-interceptor ships no types; the benchmark uses it exactly as axios-oauth-client's
// README shows.
declare module 'axios-token-interceptor' {
  import type { InternalAxiosRequestConfig } from 'axios';
  const tokenProvider: ((options: object) => (config: InternalAxiosRequestConfig) => Promise<InternalAxiosRequestConfig>) & { tokenCache: unknown };
  export default tokenProvider;
}
