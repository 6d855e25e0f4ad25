// OpenTelemetry through the real SDK's in-memory exporters: the four metrics, a span per token call
// (the child of the request that waited for it, a root of its own in the background), and nothing
// secret in any of it. Against the simulator, in simulated time where the token's life is the subject.
import { context, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type DataPoint } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ConfigError, TokenManager, type TelemetryOptions } from '../src';
import { startSimulator, type Simulator } from '../src/testing';
import { useFakeTime } from './helpers/fake-time';
import { FAST_RETRY, axios, cleanup, providerFor, track } from './helpers/setup';

afterEach(cleanup);

const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => context.setGlobalContextManager(contextManager.enable()));
afterAll(() => {
  contextManager.disable();
  context.disable();
});

/** A real MeterProvider and TracerProvider, exporting into memory. */
function otel() {
  const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // Exports only when asked (forceFlush): its interval is longer than any test.
  const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 2 ** 30 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  track(async () => {
    await meterProvider.shutdown();
    await tracerProvider.shutdown();
  });
  /** Every data point of metric `name`, as attributes and value. */
  const points = async (name: string): Promise<{ attributes: Attributes; value: unknown }[]> => {
    metrics.reset();
    await reader.forceFlush();
    const found = metrics
      .getMetrics()
      .flatMap((resource) => resource.scopeMetrics)
      .flatMap((scope) => scope.metrics)
      .filter((metric) => metric.descriptor.name === name);
    return found.flatMap((metric) => (metric.dataPoints as DataPoint<unknown>[]).map(({ attributes, value }) => ({ attributes, value })));
  };
  const tokenSpans = () => spans.getFinishedSpans().filter((span) => span.name === 'tokenwarden.token_request');
  const exported = async () => {
    metrics.reset();
    await reader.forceFlush();
    return JSON.stringify([metrics.getMetrics(), spans.getFinishedSpans().map(spanText)]);
  };
  return { options: { meterProvider, tracerProvider } satisfies TelemetryOptions, points, tokenSpans, exported, tracer: tracerProvider.getTracer('app') };
}

const spanText = (span: ReadableSpan) => ({ name: span.name, attributes: span.attributes, status: span.status, events: span.events });

async function simulator(options: Parameters<typeof startSimulator>[0]): Promise<Simulator> {
  const sim = await startSimulator(options);
  track(() => sim.close());
  return sim;
}

function managerOf(sim: Simulator, telemetry: TelemetryOptions | boolean): TokenManager {
  const tokens = new TokenManager({ provider: providerFor(sim), retry: FAST_RETRY, telemetry });
  track(() => tokens.dispose({ revoke: false }));
  return tokens;
}

describe('metrics and spans', () => {
  test('token calls by outcome, their duration, the time left, and replays after a 401; nothing secret anywhere', async () => {
    const sim = await simulator({ dialect: 'crowdstrike', tokenLifetimeSeconds: 1799 });
    const telemetry = otel();
    const tokens = managerOf(sim, telemetry.options);
    const api = axios.create();
    tokens.attach(api);
    const secrets = [sim.clientSecret];

    sim.failNext(1, 503);
    secrets.push(await tokens.getToken());
    sim.revokeAll();
    expect((await api.get('/devices/queries/devices/v1')).status).toBe(200);
    secrets.push(await tokens.getToken());

    expect(await telemetry.points('tokenwarden.token.requests')).toEqual(
      expect.arrayContaining([
        { attributes: { provider: 'crowdstrike', outcome: 'server_error' }, value: 1 },
        { attributes: { provider: 'crowdstrike', outcome: 'ok' }, value: 2 },
      ]),
    );
    expect(await telemetry.points('tokenwarden.token.requests')).toHaveLength(2);
    const durations = await telemetry.points('tokenwarden.token.request.duration');
    expect(durations.map((p) => [p.attributes['outcome'], (p.value as { count: number }).count]).sort()).toEqual([
      ['ok', 2],
      ['server_error', 1],
    ]);
    for (const point of durations) expect((point.value as { max: number }).max).toBeLessThan(5); // seconds, not ms
    const [remaining] = await telemetry.points('tokenwarden.token.remaining');
    expect(remaining!.attributes).toEqual({ provider: 'crowdstrike' });
    expect(remaining!.value).toBeGreaterThan(1790);
    expect(remaining!.value).toBeLessThanOrEqual(1799);
    expect(await telemetry.points('tokenwarden.unauthorized.replays')).toEqual([{ attributes: { provider: 'crowdstrike' }, value: 1 }]);

    const spans = telemetry.tokenSpans();
    expect(
      spans.map((span) => [span.attributes['attempt'], span.attributes['error.type'], span.attributes['http.response.status_code'], span.status.code]),
    ).toEqual([
      [1, 'server_error', 503, 2], // SpanStatusCode.ERROR
      [2, undefined, undefined, 0],
      [1, undefined, undefined, 0],
    ]);
    expect(spans.map((span) => span.attributes['provider'])).toEqual(['crowdstrike', 'crowdstrike', 'crowdstrike']);
    expect(spans[0]!.status.message).toBe('server_error');

    const text = await telemetry.exported();
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toContain(sim.clientId);
  });

  test('a failed token call records its code and status only: not the server’s words', async () => {
    const sim = await simulator({ dialect: 'oauth2' });
    const telemetry = otel();
    const tokens = new TokenManager({ provider: providerFor(sim, { clientSecret: 'not-the-secret-9917' }), retry: FAST_RETRY, telemetry: telemetry.options });
    track(() => tokens.dispose({ revoke: false }));
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'invalid_credentials' });
    const [span] = telemetry.tokenSpans();
    expect(span!.attributes).toMatchObject({ provider: 'oauth2', attempt: 1, 'error.type': 'invalid_credentials', 'http.response.status_code': 401 });
    expect(span!.status).toEqual({ code: 2, message: 'invalid_credentials' });
    const text = await telemetry.exported();
    expect(text).not.toContain('not-the-secret-9917');
    expect(text).not.toMatch(/client authentication failed|invalid client/i); // what the simulator says
  });

  test('the token call is a child of the request that waited for it', async () => {
    const sim = await simulator({ dialect: 'oauth2' });
    const telemetry = otel();
    const tokens = managerOf(sim, telemetry.options);
    const request = await telemetry.tracer.startActiveSpan('GET /things', async (span) => {
      await tokens.fetch('/things');
      span.end();
      return span;
    });
    const [call] = telemetry.tokenSpans();
    expect(call!.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(call!.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(call!.attributes['tokenwarden.reason']).toBe('initial');
  });
});

describe('in simulated time', () => {
  const fake = useFakeTime(cleanup);

  test('a background refresh is a trace of its own, not a child of the request whose send started it', async () => {
    const sim = await simulator({ dialect: 'oauth2', tokenLifetimeSeconds: 60 });
    const telemetry = otel();
    const tokens = managerOf(sim, telemetry.options);
    const time = fake.now();
    const request = await time.run(
      telemetry.tracer.startActiveSpan('first request', async (span) => {
        await tokens.getToken();
        span.end();
        return span;
      }),
    );
    await time.until(() => telemetry.tokenSpans().length === 2, 60_000, 250);
    const [first, background] = telemetry.tokenSpans();
    expect(first!.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(background!.attributes['tokenwarden.reason']).toBe('scheduled');
    expect(background!.parentSpanContext).toBeUndefined();
    expect(background!.spanContext().traceId).not.toBe(request.spanContext().traceId);
  });

  test('the gauge follows the token down, reports the soonest expiry of managers that share a provider, and leaves a disposed one out', async () => {
    const sim = await simulator({ dialect: 'oauth2', tokenLifetimeSeconds: 600 });
    const telemetry = otel();
    const older = managerOf(sim, telemetry.options);
    const newer = managerOf(sim, telemetry.options);
    const time = fake.now();
    const remaining = async () => (await time.run(telemetry.points('tokenwarden.token.remaining'))).map((p) => [p.attributes['provider'], p.value]);
    expect(await remaining()).toEqual([]); // no token, no reading
    await time.run(older.getToken());
    await time.advance(100_000, 10_000);
    expect(await remaining()).toEqual([['oauth2', expect.closeTo(500, 0)]]);
    await time.run(newer.getToken());
    await time.advance(10_000, 10_000);
    expect(await remaining()).toEqual([['oauth2', expect.closeTo(490, 0)]]); // the older token's, the soonest
    await time.run(older.dispose({ revoke: false }));
    expect(await remaining()).toEqual([['oauth2', expect.closeTo(590, 0)]]); // the newer one's alone
  });
});

describe('the option', () => {
  test('telemetry: true uses the global providers: with no SDK registered it does nothing, and the manager works', async () => {
    const sim = await simulator({ dialect: 'oauth2' });
    const tokens = managerOf(sim, true);
    expect(typeof (await tokens.getToken())).toBe('string');
    expect(tokens.status().tokenCalls).toBe(1);
  });

  test('providers that throw are the app’s trouble, not the token’s: the token arrives all the same', async () => {
    const sim = await simulator({ dialect: 'oauth2' });
    const throwing = () => {
      throw new Error('exporter down');
    };
    const tokens = managerOf(sim, { tracerProvider: { getTracer: () => ({ startSpan: throwing }) }, meterProvider: otel().options.meterProvider });
    expect(typeof (await tokens.getToken())).toBe('string');
    expect(sim.stats.tokenCalls).toBe(1);
    expect(tokens.status()).toMatchObject({ state: 'ready', consecutiveFailures: 0 });
  });

  test('telemetry that is not true, false or providers is a ConfigError naming the option', async () => {
    const sim = await simulator({ dialect: 'oauth2' });
    const made = () => new TokenManager({ provider: providerFor(sim), telemetry: 'yes' as unknown as boolean });
    expect(made).toThrow(ConfigError);
    expect(made).toThrow(expect.objectContaining({ option: 'telemetry' }));
  });
});
