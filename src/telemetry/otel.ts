// OpenTelemetry, opt-in: token-call metrics and spans through `@opentelemetry/api`, an optional peer
// dependency that the app installs (with no SDK registered, its calls do nothing). What goes in is
// the provider's name, an attempt number, an HTTP status and an error code: never a token, a key,
// a secret or a string the server sent.
import type * as Otel from '@opentelemetry/api';
import { ConfigError, type TokenError } from '../errors';
import type { RefreshReason, TelemetryOptions } from '../types';

/** What the manager tells its telemetry. */
export interface Telemetry {
  /** A token call is about to be sent: the returned function ends it, with its error if it failed. */
  tokenCall(reason: RefreshReason, attempt: number): (error?: TokenError) => void;
  /** A request refused with 401 is sent again with the new token. */
  replayed(): void;
  /** The manager is disposed: its gauge stops reporting. */
  dispose(): void;
}

const noop = () => undefined;
const NONE: Telemetry = { tokenCall: () => noop, replayed: noop, dispose: noop };

/** The instrumentation scope: this package, by name. */
const SCOPE = 'tokenwarden';

export const METRICS = {
  requests: 'tokenwarden.token.requests',
  duration: 'tokenwarden.token.request.duration',
  remaining: 'tokenwarden.token.remaining',
  replays: 'tokenwarden.unauthorized.replays',
} as const;
export const SPAN = 'tokenwarden.token_request';

/**
 * The telemetry `option` asks for: none, the global providers (`true`), or the ones given.
 * `remainingMs` reads the ms the current token has left (undefined without one), for the gauge.
 */
export function telemetryFor(option: boolean | TelemetryOptions | undefined, provider: string, remainingMs: () => number | undefined): Telemetry {
  if (option === undefined || option === false) return NONE;
  if (option !== true && (typeof option !== 'object' || option === null)) {
    throw new ConfigError('telemetry', 'TokenManager: telemetry must be true or { meterProvider?, tracerProvider? }');
  }
  const api = load();
  const given = option === true ? {} : option;
  const meter = ((given.meterProvider as Otel.MeterProvider | undefined) ?? api.metrics.getMeterProvider()).getMeter(SCOPE);
  const tracer = ((given.tracerProvider as Otel.TracerProvider | undefined) ?? api.trace.getTracerProvider()).getTracer(SCOPE);
  const attributes = { provider };
  const requests = meter.createCounter(METRICS.requests, { description: 'Token endpoint calls, by outcome (ok or the error code)' });
  const duration = meter.createHistogram(METRICS.duration, { description: 'Token endpoint call duration', unit: 's' });
  const replays = meter.createCounter(METRICS.replays, { description: 'API requests sent again after a 401 for the token' });
  const reading = { provider, remainingMs };
  readingsOf(meter).add(reading);
  return contained({
    tokenCall(reason, attempt) {
      const started = performance.now();
      // A refresh someone waits for runs in their context: its span is a child of their request. A
      // background refresh belongs to no request (the one whose send started it did not wait).
      const parent = reason === 'scheduled' ? api.ROOT_CONTEXT : api.context.active();
      const span = tracer.startSpan(SPAN, { kind: api.SpanKind.CLIENT, attributes: { provider, attempt, 'tokenwarden.reason': reason } }, parent);
      return (error) => {
        const outcome = error === undefined ? 'ok' : error.code;
        requests.add(1, { provider, outcome });
        duration.record((performance.now() - started) / 1000, { provider, outcome });
        if (error?.status !== undefined) span.setAttribute('http.response.status_code', error.status);
        // The code only: an error's message may quote (redacted) what the server said, and a span is exported.
        if (error !== undefined) span.setAttributes({ 'error.type': error.code }).setStatus({ code: api.SpanStatusCode.ERROR, message: error.code });
        span.end();
      };
    },
    replayed: () => replays.add(1, attributes),
    dispose: () => readingsOf(meter).delete(reading),
  });
}

/**
 * The app's providers are the app's code: what they throw stays out of the token calls (a meter
 * that throws must not turn a token that arrived into a failed refresh).
 */
function contained(telemetry: Telemetry): Telemetry {
  const quietly =
    <A extends unknown[], R>(run: (...args: A) => R, otherwise: R) =>
    (...args: A): R => {
      try {
        return run(...args);
      } catch {
        return otherwise;
      }
    };
  return {
    tokenCall: (reason, attempt) => quietly(quietly((r: RefreshReason, n: number) => telemetry.tokenCall(r, n), noop)(reason, attempt), undefined),
    replayed: quietly(() => telemetry.replayed(), undefined),
    dispose: quietly(() => telemetry.dispose(), undefined),
  };
}

interface Reading {
  readonly provider: string;
  readonly remainingMs: () => number | undefined;
}

/** The managers reporting to one meter: one gauge for all of them. */
const readings = new WeakMap<Otel.Meter, Set<Reading>>();

/**
 * One meter's readers of the time left. Its gauge reports, per provider, the least time any of its
 * managers' tokens has left (a pool's children share a provider name): the one a dashboard must see.
 */
function readingsOf(meter: Otel.Meter): Set<Reading> {
  let set = readings.get(meter);
  if (set !== undefined) return set;
  const live = (set = new Set());
  readings.set(meter, live);
  const gauge = meter.createObservableGauge(METRICS.remaining, { description: 'Time until the current token expires (the soonest, per provider)', unit: 's' });
  gauge.addCallback((result) => {
    const least = new Map<string, number>();
    for (const { provider, remainingMs } of live) {
      const ms = remainingMs();
      if (ms !== undefined) least.set(provider, Math.min(least.get(provider) ?? Infinity, ms));
    }
    for (const [provider, ms] of least) result.observe(Math.max(0, ms) / 1000, { provider });
  });
  return live;
}

/** `@opentelemetry/api`, or a ConfigError that says to install it. */
function load(): typeof Otel {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@opentelemetry/api') as typeof Otel;
  } catch {
    throw new ConfigError('telemetry', 'TokenManager: telemetry needs the @opentelemetry/api package: npm install @opentelemetry/api');
  }
}
