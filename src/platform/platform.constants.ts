/**
 * Largest platform answer the module reads. The platform lists at most 50 delegations with
 * previews of at most 300 characters, so anything near this size is a fault, not data.
 */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
