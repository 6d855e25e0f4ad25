// tokenwarden/testing: a local token server and API for testing services that use tokenwarden.
export {
  Simulator,
  startSimulator,
  type ApiTlsRecord,
  type AssertionRecord,
  type DpopProofRecord,
  type DpopServerOptions,
  type Fault,
  type RevokeCallRecord,
  type SeenAuthMethod,
  type SimAuthMethod,
  type SimKey,
  type SimTlsOptions,
  type SimulatorOptions,
  type SimulatorStats,
  type TokenCallRecord,
  type TokenIssuance,
} from './simulator';
export type { DialectName } from './dialects';
