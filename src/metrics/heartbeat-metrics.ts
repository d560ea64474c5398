import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { Attributes, Meter } from '@opentelemetry/api';
import { HeartbeatEventBus } from '../events/heartbeat-event-bus.js';
import {
  HEARTBEAT_EVENTS,
  type HeartbeatEventMap,
  type HeartbeatEventName,
  type PlatformRequestMeasurement,
} from '../events/heartbeat-events.js';
import { HeartbeatScheduler } from '../heartbeat/heartbeat.scheduler.js';

/** Name of the OpenTelemetry meter the instruments belong to (the package name). */
export const HEARTBEAT_METER_NAME = 'nestjs-workspace-heartbeat';

/** Names of the OpenTelemetry instruments, e.g. for views that rename or drop them. */
export const HEARTBEAT_METRICS = {
  /** Counter `{beat}`: heartbeats answered, by `heartbeat.outcome`. */
  beats: 'heartbeat.beats',
  /** Histogram `s`: platform request duration, by `heartbeat.platform.endpoint`. */
  requestDuration: 'heartbeat.platform.request.duration',
  /** Counter `{result}`: delegation results, by `heartbeat.delegation.status`. */
  delegationResults: 'heartbeat.delegation.results',
  /** Gauge `{beat}`: heartbeats not accepted in a row. */
  consecutiveFailures: 'heartbeat.consecutive_failures',
} as const;

// The SDK's default buckets are meant for milliseconds; these span loopback requests up to a
// self-message that waits for the agent (120 s by default).
const DURATION_BUCKETS_S = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 120,
];

type EventHandlers = { [K in HeartbeatEventName]?: (payload: HeartbeatEventMap[K]) => void };

/**
 * Records the module's metrics through the OpenTelemetry metrics API when `@opentelemetry/api`
 * is installed: without it nothing is recorded and nothing fails, and without an SDK the API
 * itself is a no-op. Register the SDK's meter provider before the application is created: the
 * instruments are taken from the global provider once, at module init.
 */
@Injectable()
export class HeartbeatMetrics implements OnModuleInit {
  constructor(
    private readonly events: HeartbeatEventBus,
    private readonly scheduler: HeartbeatScheduler,
  ) {}

  async onModuleInit(): Promise<void> {
    let openTelemetry: typeof import('@opentelemetry/api');
    try {
      openTelemetry = await import('@opentelemetry/api');
    } catch {
      return;
    }
    this.record(openTelemetry.metrics.getMeter(HEARTBEAT_METER_NAME));
  }

  private record(meter: Meter): void {
    const beats = meter.createCounter(HEARTBEAT_METRICS.beats, {
      description: 'Heartbeats the platform answered or that failed, by outcome.',
      unit: '{beat}',
    });
    const requestDuration = meter.createHistogram(HEARTBEAT_METRICS.requestDuration, {
      description: 'Duration of requests to the platform, by endpoint.',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    });
    const delegationResults = meter.createCounter(HEARTBEAT_METRICS.delegationResults, {
      description: 'Delegation results accepted (by their status) or refused.',
      unit: '{result}',
    });
    meter
      .createObservableGauge(HEARTBEAT_METRICS.consecutiveFailures, {
        description: 'Heartbeats the platform has not accepted in a row.',
        unit: '{beat}',
      })
      .addCallback((observation) => observation.observe(this.scheduler.consecutiveFailures));

    const handlers: EventHandlers = {
      [HEARTBEAT_EVENTS.beatAccepted]: () => beats.add(1, { 'heartbeat.outcome': 'accepted' }),
      [HEARTBEAT_EVENTS.beatFailed]: ({ status }) =>
        beats.add(1, {
          'heartbeat.outcome': 'failed',
          ...(status !== undefined && { 'http.response.status_code': status }),
        }),
      [HEARTBEAT_EVENTS.delegationAccepted]: ({ result }) =>
        delegationResults.add(1, { 'heartbeat.delegation.status': result.status }),
      [HEARTBEAT_EVENTS.delegationRefused]: ({ reason }) =>
        delegationResults.add(1, {
          'heartbeat.delegation.status': 'refused',
          'heartbeat.delegation.refusal_reason': reason,
        }),
    };
    this.events.listen({
      onEvent: (name, payload) => handlers[name]?.(payload),
      onRequest: (measurement) =>
        requestDuration.record(measurement.durationMs / 1000, requestAttributes(measurement)),
    });
  }
}

/** HTTP client conventions: the status when answered, `error.type` when the request failed. */
function requestAttributes({ endpoint, status }: PlatformRequestMeasurement): Attributes {
  const attributes: Attributes = { 'heartbeat.platform.endpoint': endpoint };
  if (status > 0) attributes['http.response.status_code'] = status;
  if (status === 0) attributes['error.type'] = 'no_response';
  else if (status >= 400) attributes['error.type'] = String(status);
  return attributes;
}
