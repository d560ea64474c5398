export { WedgeService } from './wedge.service.js';
