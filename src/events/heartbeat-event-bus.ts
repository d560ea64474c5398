import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { EventEmitter2 } from '@nestjs/event-emitter';
import { HEARTBEAT_CONFIG } from '../config/heartbeat-config.constants.js';
import { type HeartbeatConfig } from '../config/heartbeat-options.interface.js';
import {
  type HeartbeatEventBase,
  type HeartbeatEventMap,
  type HeartbeatEventName,
  type PlatformEndpoint,
  type PlatformRequestMeasurement,
} from './heartbeat-events.js';

/** Receives the module's events and measurements inside the process (metrics, health). */
export interface HeartbeatEventListener {
  onEvent?<K extends HeartbeatEventName>(name: K, payload: HeartbeatEventMap[K]): void;
  onRequest?(measurement: PlatformRequestMeasurement): void;
}

/**
 * Fans the module's observable moments out to the host's `EventEmitter2` (when
 * `@nestjs/event-emitter` is installed and `EventEmitterModule.forRoot()` imported) and to
 * in-process listeners. Both are optional: with neither, `emit` costs one check. A listener
 * that throws is logged and never disturbs the work that emitted.
 */
@Injectable()
export class HeartbeatEventBus implements OnModuleInit {
  private readonly logger = new Logger(HeartbeatEventBus.name);
  private readonly listeners: HeartbeatEventListener[] = [];
  private emitter: EventEmitter2 | undefined;

  constructor(
    @Inject(HEARTBEAT_CONFIG) private readonly config: HeartbeatConfig,
    private readonly moduleRef: ModuleRef,
  ) {}

  async onModuleInit(): Promise<void> {
    this.emitter = await findHostEmitter(this.moduleRef);
  }

  /** Whether anything would receive an event (lets callers skip building payloads). */
  get isObserved(): boolean {
    return this.emitter !== undefined || this.listeners.length > 0;
  }

  /** Adds an in-process listener. */
  listen(listener: HeartbeatEventListener): void {
    this.listeners.push(listener);
  }

  /** Emits `name` with `details` plus the workspace id and the time. */
  emit<K extends HeartbeatEventName>(
    name: K,
    details: Omit<HeartbeatEventMap[K], keyof HeartbeatEventBase>,
  ): void {
    if (!this.isObserved) return;
    const payload = {
      workspaceId: this.config.workspaceId,
      at: Date.now(),
      ...details,
    } as HeartbeatEventMap[K];
    for (const listener of this.listeners) {
      this.guard(name, () => listener.onEvent?.(name, payload));
    }
    if (this.emitter) this.guard(name, () => this.emitter!.emit(name, payload));
  }

  /** Hands a request measurement to the in-process listeners. */
  measure(endpoint: PlatformEndpoint, durationMs: number, status: number): void {
    if (this.listeners.length === 0) return;
    const measurement: PlatformRequestMeasurement = { endpoint, durationMs, status };
    for (const listener of this.listeners) {
      this.guard('measurement', () => listener.onRequest?.(measurement));
    }
  }

  private guard(what: string, deliver: () => unknown): void {
    try {
      deliver();
    } catch (error) {
      this.logger.error(
        `A listener of ${what} threw: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}

async function findHostEmitter(moduleRef: ModuleRef): Promise<EventEmitter2 | undefined> {
  let EventEmitter: typeof EventEmitter2;
  try {
    ({ EventEmitter2: EventEmitter } = await import('@nestjs/event-emitter'));
  } catch {
    return undefined;
  }
  try {
    return moduleRef.get(EventEmitter, { strict: false });
  } catch {
    return undefined;
  }
}
