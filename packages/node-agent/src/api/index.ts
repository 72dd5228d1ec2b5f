export { buildApi, buildHealthApi, createApiApp, PARAM_LENGTH_MAX, URL_LENGTH_MAX } from './app.js';
export { adminOnly, type PreHandler } from './auth.js';
export { sendError } from './errors.js';
export { API_ERRORS, type ApiErrorBody, type ApiErrorCode } from './errors.js';
export type { AgentApiPort, ApiOptions } from './port.js';
export { NODE_FAULT_KINDS, nodeFault, NodeFaultError } from './fault-routes.js';
export * from './schemas.js';
