// Options objects from JavaScript (or `as any`) can carry keys TypeScript would have refused: a
// misspelt `refreshWindow` silently keeps the default. Refuse them, naming the closest real key.
import { ConfigError } from '../errors';

/** Throw a ConfigError for the first key of `options` that is not in `known`. */
export function checkOptions(options: unknown, known: readonly string[], who: string, path = ''): void {
  if (options === null || typeof options !== 'object') return;
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const closest = nearest(key, known);
    const hint = closest === undefined ? `valid options are ${known.join(', ')}` : `did you mean ${path}${closest}?`;
    throw new ConfigError(`${path}${key}`, `${who}: unknown option ${JSON.stringify(`${path}${key}`.slice(0, 60))} (${hint})`);
  }
}

/** The known key nearest to `key` by edit distance, when it is near enough to be a typo. */
function nearest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of known) {
    const other = candidate.toLowerCase();
    // A prefix (`refreshWindow` for `refreshWindowMs`) is as close as it gets.
    const score = other.startsWith(lower) || lower.startsWith(other) ? 0.5 : distance(lower, other);
    if (score < bestScore) {
      bestScore = score;
      best = candidate;
    }
  }
  return bestScore <= Math.max(3, Math.floor(key.length / 3)) ? best : undefined;
}

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length]!;
}
