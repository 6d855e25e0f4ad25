// The simulator's own table of CrowdStrike cloud names, kept apart from the client's parser on
// purpose: a spelling the client gets wrong must show up in tests against the simulator, not be
// agreed with.
const CLOUDS: Readonly<Record<string, string>> = {
  'us-1': 'us-1',
  us1: 'us-1',
  'us-2': 'us-2',
  us2: 'us-2',
  'us-3': 'us-3',
  us3: 'us-3',
  'eu-1': 'eu-1',
  eu1: 'eu-1',
  'us-gov-1': 'us-gov-1',
  usgov1: 'us-gov-1',
  gov1: 'us-gov-1',
  'us-gov-2': 'us-gov-2',
  usgov2: 'us-gov-2',
  gov2: 'us-gov-2',
};

/** A cloud by its canonical name, however a test spelled it (`us-gov-1`, `USGOV1`, `gov1`); other names as given. */
export function cloudOf(region: string): string {
  return CLOUDS[region.trim().toLowerCase()] ?? region;
}
