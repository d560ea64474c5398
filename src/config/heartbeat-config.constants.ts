/** Injection token of the validated {@link HeartbeatConfig}. */
export const HEARTBEAT_CONFIG = 'HEARTBEAT:CONFIG';
