import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HEARTBEAT_CONFIG } from '../config/heartbeat-config.constants.js';
import { type HeartbeatConfig } from '../config/heartbeat-options.interface.js';
import { forLog } from '../shared/log-text.js';
import {
  type RuntimeAdapter,
  type RuntimeCapabilities,
  type RuntimeMetadata,
} from './runtime-adapter.interface.js';

const CAPABILITY_NAMES: readonly (keyof RuntimeCapabilities)[] = [
  'heartbeat',
  'scheduler',
  'session',
  'status_mgmt',
  'retry',
  'activity_decoration',
  'channel_dispatch',
];

/**
 * Holds the runtime adapter whose capabilities each heartbeat reports as `runtime_metadata`.
 * The adapter comes from the `adapter` option or from `register()` at run time. Reading it can
 * never block a heartbeat: an adapter that is absent, throws or answers something that is not a
 * capability map never blocks it either: the beat carries the last good `runtime_metadata` instead
 * (logged when the problem changes, counted), since a beat without it would erase the
 * capabilities the platform has stored (queueing, cron, `status_mgmt`).
 */
@Injectable()
export class AdapterRegistry implements OnModuleInit {
  private readonly logger = new Logger(AdapterRegistry.name);
  private adapter: RuntimeAdapter | undefined;
  private lastProblem: string | undefined;
  private lastGood: RuntimeMetadata | undefined;
  private failureCount = 0;

  constructor(
    @Inject(HEARTBEAT_CONFIG) private readonly config: HeartbeatConfig,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** Times the adapter could not be read for a heartbeat. */
  get failures(): number {
    return this.failureCount;
  }

  async onModuleInit(): Promise<void> {
    const option = this.config.adapter;
    if (option === undefined || this.adapter !== undefined) return;
    this.register(typeof option === 'function' ? await this.moduleRef.create(option) : option);
  }

  /** Sets (or with `undefined`, removes) the adapter; replaces any earlier one. */
  register(adapter: RuntimeAdapter | undefined): void {
    this.adapter = adapter;
    this.lastProblem = undefined;
    this.lastGood = undefined;
  }

  /** The current adapter, if any. */
  get(): RuntimeAdapter | undefined {
    return this.adapter;
  }

  /**
   * The heartbeat's `runtime_metadata`: what the adapter answers now, or when it throws or answers
   * junk, the last good answer of the same adapter; `undefined` when there never was one. Never
   * throws.
   */
  runtimeMetadata(): RuntimeMetadata | undefined {
    const adapter = this.adapter;
    if (adapter === undefined) return undefined;
    try {
      const declared: unknown = adapter.capabilities();
      if (isThenable(declared)) {
        // A rejection nobody awaits would crash the host; the beat goes on without metadata.
        declared.then(undefined, () => undefined);
        return this.fail('capabilities() returned a promise; it must answer synchronously');
      }
      if (!isPlainObject(declared)) {
        return this.fail(`capabilities() returned ${describeValue(declared)}, not a plain object`);
      }
      const capabilities = {} as RuntimeCapabilities;
      for (const name of CAPABILITY_NAMES) {
        const value = declared[name];
        if (value !== undefined && typeof value !== 'boolean') {
          return this.fail(`capabilities().${name} is ${describeValue(value)}, not a boolean`);
        }
        capabilities[name] = value === true;
      }
      const idle = adapter.idleTimeoutOverride?.();
      const metadata: RuntimeMetadata = { capabilities };
      if (typeof idle === 'number' && Number.isSafeInteger(idle) && idle > 0) {
        metadata.idle_timeout_seconds = idle;
      }
      this.lastProblem = undefined;
      this.lastGood = metadata;
      return metadata;
    } catch (error) {
      return this.fail(`adapter threw: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private fail(problem: string): RuntimeMetadata | undefined {
    this.failureCount++;
    if (problem !== this.lastProblem) {
      this.logger.warn(
        this.lastGood
          ? `Heartbeat sent with the last good runtime_metadata: ${forLog(problem)}`
          : `Heartbeat sent without runtime_metadata: ${forLog(problem)}`,
      );
      this.lastProblem = problem;
    }
    return this.lastGood;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `a ${value.constructor?.name ?? 'non-plain object'}`;
  return typeof value === 'string' ? 'a string' : typeof value;
}
