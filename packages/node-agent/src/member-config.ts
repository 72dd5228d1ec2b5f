import type { QuorumMode, TimingProfileName } from '@pxsim/quorum';
import { validateConfig, type AgentConfig } from './config.js';

/** What differs between the members of a simulated or test cluster; everything else is the same for all. */
export interface MemberConfigInput {
  clusterId: string;
  kvdb: string;
  ip: string;
  domain: string;
  storageless: boolean;
  quorumMode: QuorumMode;
  timingProfile: TimingProfileName;
  adminToken: string;
  dataDir: string;
  schedulerNodeName: string;
}

/**
 * The validated config of one member of a cluster that pxsim assembles itself (simulator, `pnpm sim`, tests,
 * benchmarks): ports 9001–9003 on the node's own IP, a 150 GiB pool (1 GiB for a storage-less witness).
 */
export function memberConfig(input: MemberConfigInput): AgentConfig {
  return validateConfig({
    clusterId: input.clusterId,
    kvdb: input.kvdb,
    clusterDomain: input.domain,
    ip: input.ip,
    apiPort: 9001,
    heartbeatPort: 9002,
    replicationPort: 9003,
    dataDir: input.dataDir,
    schedulerNodeName: input.schedulerNodeName,
    poolCapacityGiB: input.storageless ? 1 : 150,
    version: '2.1.0.0-pxsim',
    quorumMode: input.quorumMode,
    timingProfile: input.timingProfile,
    adminToken: input.adminToken,
    storageless: input.storageless,
  });
}
