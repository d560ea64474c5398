/** Error texts the real platform answers, word for word. */
export const WIRE = {
  missingToken: 'missing workspace auth token',
  invalidToken: 'invalid workspace auth token',
  missingCallerToken: 'missing caller auth token',
  invalidCallerToken: 'invalid caller auth token',
  adminRequired: 'admin auth required',
  invalidAdminToken: 'invalid admin auth token',
  invalidBody: 'invalid request body',
  failedToUpdate: 'failed to update',
  invalidWorkspaceId: 'invalid workspace ID',
  workspaceNotFound: 'workspace not found',
  invalidWorkspacePayload: 'invalid workspace payload',
  queryFailed: 'query failed',
  lookupFailed: 'lookup failed',
  failedToVerifyWorkspace: 'failed to verify workspace',
  messageRequired: 'message is required',
  invalidJson: 'invalid JSON',
  invalidDelegationRequest: 'invalid delegation request',
  targetNotUuid: 'target_id must be a valid UUID',
  selfDelegation: 'self-delegation not permitted',
  updateStatus: "status must be 'completed' or 'failed'",
  failedToRecord: 'failed to record delegation',
  tokenNotFound: 'token not found or already revoked',
  failedToRevoke: 'failed to revoke token',
  tooManyTokens: 'maximum 50 active tokens per workspace',
  saveTokenNow: 'Save this token now — it cannot be retrieved again.',
  rateLimited: 'rate limit exceeded',
  budgetExceeded: 'workspace budget limit exceeded',
  accessDenied: 'access denied: workspaces cannot communicate per hierarchy rules',
  unreachable: 'failed to reach workspace agent',
  busyQueued: 'workspace agent busy — request queued, will dispatch when capacity available',
  busyRetry: 'workspace agent busy — retry after a short backoff',
  busySession: 'workspace agent busy — adapter handles retry (native_session)',
  waking: 'workspace is waking from hibernation — retry in ~15 seconds',
  noUrl: 'workspace has no URL',
  registrationFailed: 'registration failed',
  notFoundPage: '404 page not found',
} as const;

/** The simulator's own answers where the real server has no equivalent. */
export const INJECTED_FAULT = 'injected fault';
export const BODY_TOO_LARGE = 'request body too large';

export const invalidOption = (option: string, expected: string): string =>
  `PlatformSimulator option "${option}" must be ${expected}`;

export const invalidFault = (field: string, expected: string): string =>
  `PlatformFault "${field}" must be ${expected}`;

export const conflictingFaultFields = (fields: readonly string[]): string =>
  `PlatformFault fields ${fields.map((f) => `"${f}"`).join(', ')} cannot be combined: set one of them`;

export const notStarted = (): string => 'PlatformSimulator is not running: call start() first';

export const alreadyStarted = (): string =>
  'PlatformSimulator is already running: call stop() first';

export const notUuid = (what: string, value: string): string =>
  `${what} must be a UUID (the platform's ids are UUIDs), got ${JSON.stringify(value)}`;

export const unknownWorkspace = (id: string): string => `No simulated workspace "${id}"`;

export const unknownDelegation = (id: string): string =>
  `No simulated delegation row with delegation_id or id "${id}"`;

export const duplicateDelegation = (id: string): string =>
  `A simulated delegation row with id "${id}" already exists`;

export const waitForTimedOut = (timeoutMs: number, recorded: number): string =>
  `waitFor timed out after ${timeoutMs} ms: none of the ${recorded} recorded requests matched`;

export const stoppedWhileWaiting = (): string =>
  'waitFor gave up: the PlatformSimulator was stopped before a matching request arrived';

export const brokenSummaryNeeded = (): string =>
  'a reply whose UTF-8 byte 80 falls inside a character is needed for a result row that never comes';
