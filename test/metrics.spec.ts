import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { HEARTBEAT_METER_NAME, HEARTBEAT_METRICS } from '../src/metrics/index.js';
import { type PlatformEndpoint, type PlatformSimulator } from '../src/testing/index.js';
import { startHost, type TestHost, WORKSPACE_ID, startPlatform } from './support/host.js';
import { runWithout } from './support/run-without.js';

/** One exported data point: its attributes (as sorted `key=value` text) and its value. */
type Point = [attributes: string, value: number];

const describeAttributes = (attributes: Record<string, unknown>) =>
  Object.entries(attributes)
    .map(([key, value]) => `${key}=${String(value)}`)
    .sort()
    .join(' ');

describe('HeartbeatMetrics through the OpenTelemetry metrics API', () => {
  let platform: PlatformSimulator;
  let host: TestHost;
  let exporter: InMemoryMetricExporter;
  let reader: PeriodicExportingMetricReader;
  let provider: MeterProvider;

  beforeEach(async () => {
    exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    provider = new MeterProvider({ readers: [reader] });
    assert.ok(metrics.setGlobalMeterProvider(provider));
    platform = await startPlatform();
    platform.addWorkspace({ id: WORKSPACE_ID, name: 'Worker' });
    host = await startHost(platform);
  });

  afterEach(async () => {
    await host.close();
    await provider.shutdown();
    metrics.disable();
    await platform.stop();
  });

  /** Exports now and returns the module's instrument `name` as exported. */
  async function exported(name: string): Promise<MetricData> {
    await reader.forceFlush();
    const scopes = exporter.getMetrics().at(-1)?.scopeMetrics ?? [];
    const metric = scopes
      .filter((scope) => scope.scope.name === HEARTBEAT_METER_NAME)
      .flatMap((scope) => scope.metrics)
      .find((candidate) => candidate.descriptor.name === name);
    assert.ok(metric, `${name} was exported`);
    return metric;
  }

  async function points(name: string): Promise<Point[]> {
    const metric = await exported(name);
    assert.ok(metric.dataPointType !== DataPointType.HISTOGRAM, `${name} is not a histogram`);
    return metric.dataPoints
      .map((point): Point => [describeAttributes(point.attributes), point.value as number])
      .sort(([a], [b]) => a.localeCompare(b));
  }

  /** Histogram data points as `attributes → count`, with every sum checked to be in seconds. */
  async function histogramCounts(name: string): Promise<Point[]> {
    const metric = await exported(name);
    assert.equal(metric.dataPointType, DataPointType.HISTOGRAM);
    return metric.dataPoints
      .map(({ attributes, value }): Point => {
        assert.ok(typeof value === 'object' && value.sum! < 2 * value.count, 'seconds, not ms');
        return [describeAttributes(attributes), value.count];
      })
      .sort(([a], [b]) => a.localeCompare(b));
  }

  it('counts beats by outcome and status, and reads consecutive failures', async () => {
    assert.equal(await host.scheduler.beat(), true);
    platform.fault('heartbeat', { status: 503, times: 1 });
    assert.equal(await host.scheduler.beat(), false);
    // Twice: the beat is resent once on a new connection after a reset.
    platform.fault('heartbeat', { resetConnection: true, times: 2 });
    assert.equal(await host.scheduler.beat(), false);
    const token = platform.rotateToken(WORKSPACE_ID);
    assert.equal(await host.scheduler.beat(), false);

    assert.deepEqual(await points(HEARTBEAT_METRICS.beats), [
      ['heartbeat.outcome=accepted', 1],
      ['heartbeat.outcome=failed', 1],
      ['heartbeat.outcome=failed http.response.status_code=401', 1],
      ['heartbeat.outcome=failed http.response.status_code=503', 1],
    ]);
    assert.deepEqual(await points(HEARTBEAT_METRICS.consecutiveFailures), [['', 3]]);

    await host.writeToken(token);
    assert.equal(await host.scheduler.beat(), true);
    assert.deepEqual(await points(HEARTBEAT_METRICS.consecutiveFailures), [['', 0]]);
  });

  it('records request durations in seconds by endpoint and status', async () => {
    await host.scheduler.beat();
    platform.fault('heartbeat', { status: 503, times: 1 });
    await host.scheduler.beat();
    // Twice: the beat is resent once on a new connection after a reset.
    platform.fault('heartbeat', { resetConnection: true, times: 2 });
    await host.scheduler.beat();
    await host.delegations.check();

    const duration = await exported(HEARTBEAT_METRICS.requestDuration);
    assert.equal(duration.descriptor.unit, 's');
    assert.deepEqual(await histogramCounts(HEARTBEAT_METRICS.requestDuration), [
      ['error.type=503 heartbeat.platform.endpoint=heartbeat http.response.status_code=503', 1],
      ['error.type=no_response heartbeat.platform.endpoint=heartbeat', 1],
      ['heartbeat.platform.endpoint=delegations http.response.status_code=200', 1],
      ['heartbeat.platform.endpoint=heartbeat http.response.status_code=200', 1],
    ]);
  });

  it('counts delegation results completed, failed and refused; times every call they cause', async () => {
    platform.addDelegation(WORKSPACE_ID, { status: 'completed' });
    platform.addDelegation(WORKSPACE_ID, { status: 'failed', error: 'boom' });
    platform.addDelegation(WORKSPACE_ID, { status: 'completed', source_id: 'ws-other' });
    await host.delegations.check();
    await host.delegations.whenWakeSettled();

    assert.deepEqual(await points(HEARTBEAT_METRICS.delegationResults), [
      ['heartbeat.delegation.refusal_reason=foreign-source heartbeat.delegation.status=refused', 1],
      ['heartbeat.delegation.status=completed', 1],
      ['heartbeat.delegation.status=failed', 1],
    ]);
    const endpoints: PlatformEndpoint[] = ['delegations', 'workspace', 'a2a', 'notify'];
    assert.deepEqual(
      await histogramCounts(HEARTBEAT_METRICS.requestDuration),
      endpoints
        .map((endpoint): Point => [
          `heartbeat.platform.endpoint=${endpoint} http.response.status_code=200`,
          platform.count(endpoint),
        ])
        .sort(([a], [b]) => a.localeCompare(b)),
    );
    assert.equal(platform.count('notify'), 2);
  });

  it('describes each instrument with its kind and unit', async () => {
    await host.scheduler.beat();
    await host.delegations.check();
    platform.addDelegation(WORKSPACE_ID, { status: 'completed' });
    await host.delegations.check();
    const kinds = await Promise.all(
      Object.values(HEARTBEAT_METRICS).map(async (name) => {
        const { descriptor, dataPointType } = await exported(name);
        return [name, DataPointType[dataPointType], descriptor.unit];
      }),
    );
    assert.deepEqual(kinds, [
      ['heartbeat.beats', 'SUM', '{beat}'],
      ['heartbeat.platform.request.duration', 'HISTOGRAM', 's'],
      ['heartbeat.delegation.results', 'SUM', '{result}'],
      ['heartbeat.consecutive_failures', 'GAUGE', '{beat}'],
    ]);
  });
});

describe('without @opentelemetry/api installed', () => {
  const loadAndInit = `
    const { HeartbeatMetrics } = await import(${JSON.stringify(
      new URL('../src/metrics/heartbeat-metrics.js', import.meta.url).href,
    )});
    let listeners = 0;
    await new HeartbeatMetrics({ listen: () => listeners++ }, {}).onModuleInit();
    console.log('listeners: ' + listeners);`;

  it('records nothing and fails nothing', async () => {
    assert.deepEqual(await runWithout('@opentelemetry/api', loadAndInit), ['listeners: 0']);
  });

  it('(control: with it, the metrics subscribe)', async () => {
    assert.deepEqual(await runWithout('no-such-package', loadAndInit), ['listeners: 1']);
  });
});
