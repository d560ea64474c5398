export { AdapterRegistry } from './adapter.registry.js';
export type {
  RuntimeAdapter,
  RuntimeAdapterOption,
  RuntimeCapabilities,
  RuntimeMetadata,
} from './runtime-adapter.interface.js';
