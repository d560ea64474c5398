export const UNAUTHORIZED = 'missing/invalid workspace auth token';
export const NOT_FOUND = 'not found';
export const WORKSPACE_NOT_FOUND = 'workspace not found';
export const INJECTED_FAULT = 'injected fault';
export const BODY_TOO_LARGE = 'request body too large';

export const invalidField = (field: string, expected: string): string =>
  `${field} must be ${expected}`;

export const invalidOption = (option: string, expected: string): string =>
  `PlatformSimulator option "${option}" must be ${expected}`;

export const invalidFault = (field: string, expected: string): string =>
  `PlatformFault "${field}" must be ${expected}`;

export const conflictingFaultFields = (fields: readonly string[]): string =>
  `PlatformFault fields ${fields.map((f) => `"${f}"`).join(', ')} cannot be combined: set one of them`;

export const notStarted = (): string => 'PlatformSimulator is not running: call start() first';

export const alreadyStarted = (): string =>
  'PlatformSimulator is already running: call stop() first';

export const unknownDelegation = (id: string): string =>
  `No simulated delegation with delegation_id or id "${id}"`;

export const duplicateDelegation = (id: string): string =>
  `A simulated delegation with id "${id}" already exists`;

export const waitForTimedOut = (timeoutMs: number, recorded: number): string =>
  `waitFor timed out after ${timeoutMs} ms: none of the ${recorded} recorded requests matched`;

export const stoppedWhileWaiting = (): string =>
  'waitFor gave up: the PlatformSimulator was stopped before a matching request arrived';
