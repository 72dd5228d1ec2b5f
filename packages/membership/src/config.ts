/**
 * The protocol's constants and the formulas that scale them with the cluster size. Each follows hashicorp/memberlist:
 * the field names are memberlist's `Config` fields (config.go) with the unit in the name.
 */
export interface MembershipConfig {
  /** Failure check period; one member is probed per interval (config.go ProbeInterval). */
  probeIntervalMs: number;
  /** Wait this long for a direct ack before asking helpers (config.go ProbeTimeout; not scaled by awareness). */
  probeTimeoutMs: number;
  /** Helpers asked to ping a member that missed its direct ack (config.go IndirectChecks). */
  indirectChecks: number;
  /** Broadcast retransmits = RetransmitMult × ceil(log10(n + 1)) (config.go RetransmitMult, util.go retransmitLimit). */
  retransmitMult: number;
  /** Suspicion minimum = SuspicionMult × max(1, log10(n)) × ProbeInterval (config.go SuspicionMult). */
  suspicionMult: number;
  /** Suspicion maximum = this × the minimum, before confirmations (config.go SuspicionMaxTimeoutMult). */
  suspicionMaxTimeoutMult: number;
  /** Full state exchange with one random member, scaled above 32 members (config.go PushPullInterval). */
  pushPullIntervalMs: number;
  /** Lifeguard: the probe interval is multiplied by at most this (config.go AwarenessMaxMultiplier). */
  awarenessMaxMultiplier: number;
  /** Members gossiped to per gossip round (config.go GossipNodes). */
  gossipNodes: number;
  /** Gossip round period (config.go GossipInterval). */
  gossipIntervalMs: number;
  /** Dead members still gossiped to, and kept, for this long (config.go GossipToTheDeadTime). */
  gossipToTheDeadTimeMs: number;
  /** Largest frame of the packet messages, piggybacked broadcasts included (config.go UDPBufferSize). */
  udpBufferSize: number;
}

/** memberlist's DefaultLANConfig (config.go): tolerates one-way latency below ~125 ms, not a metro link. */
export function lanConfig(): MembershipConfig {
  return {
    probeIntervalMs: 1000,
    probeTimeoutMs: 500,
    indirectChecks: 3,
    retransmitMult: 4,
    suspicionMult: 4,
    suspicionMaxTimeoutMult: 6,
    pushPullIntervalMs: 30_000,
    awarenessMaxMultiplier: 8,
    gossipNodes: 3,
    gossipIntervalMs: 200,
    gossipToTheDeadTimeMs: 30_000,
    udpBufferSize: 1400,
  };
}

/** Short timers for local sims whose one-way latency stays below 50 ms (`configProblems(fastConfig(), 50)` is []). */
export function fastConfig(): MembershipConfig {
  return {
    ...lanConfig(),
    probeIntervalMs: 500,
    probeTimeoutMs: 200,
    gossipIntervalMs: 100,
    pushPullIntervalMs: 15_000,
    gossipToTheDeadTimeMs: 15_000,
  };
}

/**
 * The LAN defaults with probe timers that tolerate the metro bound of 500 ms one way: a direct round trip (1000 ms)
 * fits in ProbeTimeout (1500 ms), and ProbeTimeout plus an indirect round trip (4 × 500 ms) fits in ProbeInterval.
 */
export function metroConfig(): MembershipConfig {
  return { ...lanConfig(), probeIntervalMs: 4000, probeTimeoutMs: 1500 };
}

/**
 * Why `config` cannot work when a message may take up to `latencyMaxMs` one way; [] when it can. A direct probe needs
 * its ack within ProbeTimeout (a helper reaps its relay after ProbeTimeout too, net.go handleIndirectPing), an indirect
 * probe sent at ProbeTimeout needs its relayed ack (4 one-way trips) before the probe's deadline at ProbeInterval
 * (state.go probeNode), and a suspected member needs at least a round trip and a gossip round to refute.
 */
export function configProblems(config: MembershipConfig, latencyMaxMs: number): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(config) as [keyof MembershipConfig, number][]) {
    if (!Number.isInteger(value) || value < 1) problems.push(`${name} must be a positive integer, not ${value}`);
  }
  if (!Number.isFinite(latencyMaxMs) || latencyMaxMs < 0)
    problems.push(`latencyMaxMs ${latencyMaxMs} is not a latency`);
  if (problems.length > 0) return problems;
  const roundTrip = 2 * latencyMaxMs;
  if (config.probeTimeoutMs <= roundTrip)
    problems.push(
      `probeTimeoutMs ${config.probeTimeoutMs} does not exceed a round trip (2 × ${latencyMaxMs} ms = ${roundTrip} ms): ` +
        'helpers would drop the acks they relay and nack every indirect probe',
    );
  const indirect = config.probeTimeoutMs + 2 * roundTrip;
  if (config.probeIntervalMs <= indirect)
    problems.push(
      `probeIntervalMs ${config.probeIntervalMs} does not exceed probeTimeoutMs plus an indirect round trip ` +
        `(${config.probeTimeoutMs} + 4 × ${latencyMaxMs} ms = ${indirect} ms): relayed acks would come after the probe failed`,
    );
  const refute = roundTrip + config.gossipIntervalMs;
  if (config.suspicionMult * config.probeIntervalMs <= refute)
    problems.push(
      `the smallest suspicion timeout (suspicionMult × probeIntervalMs = ${config.suspicionMult * config.probeIntervalMs} ms) ` +
        `does not exceed a round trip plus a gossip round (${refute} ms): a suspected member could not refute in time`,
    );
  if (config.udpBufferSize < 256)
    problems.push(`udpBufferSize ${config.udpBufferSize} is below 256 bytes: a probe and a broadcast must fit a frame`);
  if (config.gossipToTheDeadTimeMs < config.probeIntervalMs)
    problems.push(`gossipToTheDeadTimeMs ${config.gossipToTheDeadTimeMs} is shorter than probeIntervalMs`);
  return problems;
}

/** util.go suspicionTimeout: SuspicionMult × max(1, log10(max(1, n))) × interval, the scale kept to 1/1000. */
export function suspicionTimeoutMs(suspicionMult: number, n: number, intervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  return Math.floor((suspicionMult * Math.trunc(nodeScale * 1000) * intervalMs) / 1000);
}

/** util.go retransmitLimit: RetransmitMult × ceil(log10(n + 1)). */
export function retransmitLimit(retransmitMult: number, n: number): number {
  return retransmitMult * Math.ceil(Math.log10(n + 1));
}

/** util.go pushPullScaleThreshold. */
export const PUSH_PULL_SCALE_THRESHOLD = 32;

/** util.go pushPullScale: the interval as is up to 32 members, then × (ceil(log2(n) − log2(32)) + 1). */
export function pushPullScaleMs(intervalMs: number, n: number): number {
  if (n <= PUSH_PULL_SCALE_THRESHOLD) return intervalMs;
  const multiplier = Math.ceil(Math.log2(n) - Math.log2(PUSH_PULL_SCALE_THRESHOLD)) + 1;
  return multiplier * intervalMs;
}

/**
 * suspicion.go remainingSuspicionTime without the elapsed part: the whole timeout after `n` of `k` confirmations,
 * max − (log(n + 1) / log(k + 1)) × (max − min), floored to the ms and never below min.
 */
export function suspicionTimeoutAfter(n: number, k: number, minMs: number, maxMs: number): number {
  const fraction = Math.log(n + 1) / Math.log(k + 1);
  const raw = Math.floor(maxMs - fraction * (maxMs - minMs));
  return Math.max(minMs, raw);
}
