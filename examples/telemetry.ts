// OpenTelemetry: token-call metrics and spans from a manager, through the app's own SDK.
//   FALCON_CLIENT_ID=... FALCON_CLIENT_SECRET=... npx tsx examples/telemetry.ts
// Needs @opentelemetry/api (the peer tokenwarden uses) and an SDK; here the metrics and spans go to
// in-memory exporters and are printed, where a service would export them (OTLP, Prometheus).
import axios from 'axios';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { TokenManager, crowdstrike } from 'tokenwarden';

const env = (name: string) => process.env[name] || undefined;

async function main() {
  const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 60_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });

  await using tokens = new TokenManager({
    provider: crowdstrike({ clientId: env('FALCON_CLIENT_ID') ?? '', clientSecret: env('FALCON_CLIENT_SECRET') ?? '', baseUrl: env('FALCON_BASE_URL') }),
    telemetry: { meterProvider, tracerProvider }, // or `true` for the globally registered ones
  });
  const falcon = axios.create();
  tokens.attach(falcon);
  await falcon.get('/devices/queries/devices/v1', { params: { limit: 5 } });

  await reader.forceFlush();
  for (const metric of metrics.getMetrics().flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics))) {
    for (const point of metric.dataPoints) {
      const value = typeof point.value === 'number' ? point.value.toFixed(0) : `count ${(point.value as { count: number }).count}`;
      console.log(`${metric.descriptor.name} ${JSON.stringify(point.attributes)} ${value}`);
    }
  }
  for (const span of spans.getFinishedSpans()) console.log(`span ${span.name} ${JSON.stringify(span.attributes)}`);
  await meterProvider.shutdown();
  await tracerProvider.shutdown();
}

main().catch((error) => {
  console.error(error.code ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
});
