/**
 * Largest event read, in characters. The platform's events are small JSON envelopes (delegation
 * previews are cut to 200 characters), so an event near this size is a fault, not data.
 */
export const MAX_EVENT_CHARS = 256 * 1024;

/** First reconnect delay ceiling; it doubles per failed attempt. */
export const RECONNECT_BASE_MS = 1_000;

/** Largest reconnect delay ceiling. */
export const RECONNECT_MAX_MS = 60_000;
