import { type PlatformEndpoint, type PlatformFault } from '../../src/testing/index.js';

/**
 * Misbehaviours the platform may show during the soak, on every endpoint the module calls:
 * errors, hangs, resets, slow answers, 401s (which make the module re-read its token file),
 * redirects and malformed or oversized listings.
 */
export const SOAK_FAULTS: readonly { endpoint: PlatformEndpoint; fault: PlatformFault }[] = [
  { endpoint: 'heartbeat', fault: { status: 500 } },
  { endpoint: 'heartbeat', fault: { status: 503, headers: { 'Retry-After': '2' } } },
  { endpoint: 'heartbeat', fault: { status: 401 } },
  { endpoint: 'heartbeat', fault: { status: 400 } },
  { endpoint: 'heartbeat', fault: { delayMs: 30 } },
  { endpoint: 'heartbeat', fault: { hang: true } },
  { endpoint: 'heartbeat', fault: { resetConnection: true } },
  { endpoint: 'heartbeat', fault: { redirectTo: 'http://127.0.0.1:9' } },
  { endpoint: 'delegations', fault: { status: 500 } },
  { endpoint: 'delegations', fault: { status: 401 } },
  { endpoint: 'delegations', fault: { body: '[{"delegation_id": 7}, null, "x"' } },
  { endpoint: 'delegations', fault: { body: '{"delegations": []}' } },
  { endpoint: 'delegations', fault: { body: '[{"delegation_id": "d", "status": "completed"}]' } },
  { endpoint: 'delegations', fault: { oversizedBytes: 5_000_000 } },
  { endpoint: 'delegations', fault: { delayMs: 40 } },
  { endpoint: 'delegations', fault: { hang: true } },
  { endpoint: 'delegations', fault: { resetConnection: true } },
  { endpoint: 'a2a', fault: { status: 500 } },
  { endpoint: 'a2a', fault: { delayMs: 50 } },
  { endpoint: 'a2a', fault: { hang: true } },
  { endpoint: 'a2a', fault: { resetConnection: true } },
  { endpoint: 'notify', fault: { status: 500 } },
  { endpoint: 'notify', fault: { status: 401 } },
  { endpoint: 'notify', fault: { resetConnection: true } },
  { endpoint: 'workspace', fault: { status: 500 } },
  { endpoint: 'workspace', fault: { delayMs: 40 } },
];

/** Draws one fault of {@link SOAK_FAULTS}, applied to 1–5 requests. */
export function drawFault(random: () => number): {
  endpoint: PlatformEndpoint;
  fault: PlatformFault;
} {
  const { endpoint, fault } = SOAK_FAULTS[Math.floor(random() * SOAK_FAULTS.length)];
  return { endpoint, fault: { ...fault, times: 1 + Math.floor(random() * 5) } };
}
