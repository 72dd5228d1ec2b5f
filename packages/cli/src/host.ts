import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import type { AgentStatus } from '@pxsim/node-agent';
import type { HostFacts } from './format.js';

function osName(): string {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

/** us-east-1a → us-east-1 (a zone's region); other names stand for themselves. */
export function regionOf(domain: string): string {
  return /^([a-z]+-[a-z]+-\d+)[a-z]$/.exec(domain)?.[1] ?? domain;
}

/** What pxctl shows about the machine: the host this CLI runs on (the sim's nodes share it). */
export function hostFacts(status: AgentStatus): HostFacts {
  return {
    license: 'Simulated (pxsim)',
    kernel: release(),
    os: osName(),
    devicePath: '/dev/pxsim0',
    lastScanMs: status.nowMs,
    region: regionOf(status.node.domain),
  };
}
