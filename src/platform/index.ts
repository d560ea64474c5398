export {
  PlatformAuthError,
  PlatformClosedError,
  PlatformRequestError,
  PlatformResponseError,
  PlatformTimeoutError,
} from './platform.errors.js';
