export { realClock, ManualClock, type Clock, type Timer } from './clock.js';
export { seededRandom, derivedRandom } from './random.js';
export { Scheduler, EventBudgetExceeded, DEFAULT_EVENT_BUDGET, type EventBudget } from './scheduler.js';
export {
  faultSchema,
  parseFault,
  parseFaultText,
  formatFault,
  mapTargets,
  isNetworkFault,
  FaultSyntaxError,
  FAULT_KINDS,
  type Fault,
  type FaultKind,
  type NetworkFault,
} from './fault.js';
export { LinkFaults, METRO_LATENCY_MS_MAX, type LatencyRule, type LossRule, type FaultSummary } from './link-faults.js';
