export {
  type AppWaitOptions,
  RELAY_BROKEN,
  RELAY_BYTES,
  RELAY_INTR,
  RELAY_OK,
  RELAY_TIMEOUT,
  Relay,
  type RelayCounters,
  RelayWord,
} from './relay.js';
export { PROBE_EVERY, type RelayOptions, relayDefaults, spinItersPerUs } from './spin.js';
