export {
  Simulation,
  topology,
  groupIps,
  type SimulationOptions,
  type NodeSpec,
  type NodeState,
  type HistoryEntry,
  type Violation,
} from './simulation.js';
export { applyStep, type Step } from './nemesis.js';
export {
  checkSchedules,
  runSchedule,
  scheduleArbitrary,
  stepArbitrary,
  type Schedule,
  type CheckOptions,
  type CheckResult,
  type ScheduleResult,
} from './property.js';
export {
  parseScenario,
  runScenarioVirtual,
  comparable,
  nodeLabels,
  resolveGroup,
  ScenarioError,
  type Scenario,
  type ScenarioStep,
  type ScenarioRun,
} from './scenario.js';
export { runScenarioReal, type RealRunOptions } from './scenario-real.js';
