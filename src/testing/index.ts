// tokenwarden/testing: a local token server and API for testing services that use tokenwarden.
export { Simulator, startSimulator } from './simulator';
export type { Fault } from './wire';
export type { DpopServerOptions, SimAuthMethod, SimTlsOptions, SimulatorOptions } from './options';
export type { SimKey } from './jws';
export type { ApiTlsRecord, AssertionRecord, DpopProofRecord, RevokeCallRecord, SeenAuthMethod, SimulatorStats, TokenCallRecord, TokenIssuance } from './stats';
export type { DialectName } from './dialects';
