export { Simulation, type SimulationOptions, type NodeState } from './simulation.js';
export {
  topology,
  groupIps,
  agentConfig,
  agentConfigs,
  assembleCluster,
  type ClusterPlan,
  type ClusterMember,
  type NodeSpec,
} from './cluster.js';
export {
  eventText,
  historyLine,
  type HistoryEvent,
  type StateEvent,
  type FaultEvent,
  type OperatorEvent,
  type CheckEvent,
  type Violation,
  CHECK_NAMES,
  type CheckName,
} from '@pxsim/checkers';
export { applyStep, resolveStep, type Step } from './nemesis.js';
export {
  COVERAGE_CASES,
  COVERAGE_FLOORS,
  L2_WINDOW_CASE,
  QUEUED_WRITES_CASE,
  classify,
  coverageShortfalls,
} from './coverage.js';
export {
  checkSchedules,
  parseShard,
  shardRuns,
  runSchedule,
  scheduleArbitrary,
  scheduleArbitraryFor,
  comboArbitrary,
  replayPathOf,
  stepArbitrary,
  FAULT_STEP_KINDS,
  type Schedule,
  type CheckOptions,
  type Shard,
  type SimulationVariant,
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
export { DATA_STEP_KINDS, type DataStep } from './scenario-data.js';
export {
  renderTimeline,
  blockOpsTimeline,
  timelineNodes,
  escapeHtml,
  STATE_COLOURS,
  type TimelineInput,
  type TimelineNode,
  type TimelineOp,
  type TimelineViolation,
} from './report/timeline.js';
export {
  pxNodeViews,
  pxStorkDriver,
  pxVolumeDriver,
  PX_ANSWER_MS,
  type PxAccess,
  type PxNodeHandle,
} from './kube-drivers.js';
export { VirtualKube, KUBE_PASS_MS, VIRTUAL_SERVER_PREFIX } from './kube-virtual.js';
export { KUBE_STEP_KINDS, parseKubeStep, describeKubeStep, type KubeStep } from './scenario-kube.js';
export { checkKubeSchedules, type KubeCheckOptions, type KubeCheckResult } from './kube-property.js';
export { typeOfObject } from './scenario-kube.js';
