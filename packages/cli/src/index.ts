export { pxctl, storkctl, run, processIo, type Io } from './commands.js';
export { pxsim, up, simOptionsFrom } from './pxsim.js';
export { Sim, agentLog, type SimOptions, type SimNodeSpec } from './sim.js';
export { parseCduDocuments, type CduDocument } from './cdu.js';
export * from './format.js';
export { CliError, SIM_LOG_LEVELS, type SimInfo, type SimLogLevel } from './client.js';
