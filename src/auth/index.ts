export { AuthService, TOKEN_FILE_NAME } from './auth.service.js';
