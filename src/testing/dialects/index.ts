// The dialects the simulator speaks.
import type { ServerDialect } from '../dialect';
import { crowdstrikeDialect } from './crowdstrike';
import { oauth2Dialect } from './oauth2';
import { oneloginDialect } from './onelogin';

export type DialectName = 'crowdstrike' | 'onelogin' | 'oauth2';

export const DIALECTS: Readonly<Record<DialectName, ServerDialect>> = { crowdstrike: crowdstrikeDialect, onelogin: oneloginDialect, oauth2: oauth2Dialect };
