export { Scheduler } from './scheduler.js';
export { seededRandom, derivedRandom } from './random.js';
export {
  Simulation,
  topology,
  type SimulationOptions,
  type NodeSpec,
  type NodeState,
  type HistoryEntry,
  type Violation,
} from './simulation.js';
