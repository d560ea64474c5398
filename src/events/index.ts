export {
  HEARTBEAT_EVENTS,
  type BeatAcceptedEvent,
  type BeatFailedEvent,
  type DelegationAcceptedEvent,
  type DelegationRefusedEvent,
  type HeartbeatEventBase,
  type HeartbeatEventMap,
  type HeartbeatEventName,
  type PlatformEndpoint,
  type PlatformRequestMeasurement,
  type RecoveredEvent,
  type SelfMessageFailedEvent,
  type SelfMessageSentEvent,
  type TokenRefreshedEvent,
  type WedgeClearedEvent,
  type WedgeSetEvent,
} from './heartbeat-events.js';
export { HeartbeatEventBus, type HeartbeatEventListener } from './heartbeat-event-bus.js';
