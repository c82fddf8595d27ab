// For subnets.test.ts: a small stack with a task on each node (so each node
// both tears down the removed stack's network and creates the new one), and
// what subnet a network holds on the swarm.
import type { Lab } from '../harness.js'
import { docker } from '../harness.js'

/**
 * Global: one task per node. The container stops at once (init forwards the
 * SIGTERM) but its network goes only after the node has torn down the task;
 * `monitor: 1s` lets the judge call a new task up after a second.
 */
export const SUBNET_COMPOSE = `version: "3.8"
services:
  app:
    image: \${BASE_IMAGE}
    command: ["sleep", "3600"]
    init: true
    stop_grace_period: 2s
    deploy:
      mode: global
      update_config:
        monitor: 1s
`

/** The subnet a network holds, as the manager lists it; '' when it has none or is gone. */
export function networkSubnet(lab: Lab, name: string): string {
  try {
    return docker(lab, ['network', 'inspect', name, '--format', '{{range .IPAM.Config}}{{.Subnet}} {{end}}']).trim()
  } catch {
    return ''
  }
}
