export {
  type AppWaitOptions,
  RELAY_BROKEN,
  RELAY_BYTES,
  RELAY_COUNTER_BYTES,
  RELAY_HOT_BYTES,
  RELAY_INTR,
  RELAY_OK,
  RELAY_TIMEOUT,
  Relay,
  type RelayCounters,
  type RelayPlacement,
  RelayWord,
} from './relay.js';
export {
  PROBE_EVERY,
  type RelayOptions,
  relayDefaults,
  spinCalibration,
  useSpinCalibration,
} from './spin.js';
export { WaitClock } from './wait-clock.js';
