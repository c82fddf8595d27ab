// `docker stack deploy` with the runner's CLI, aimed at the target engine
// through the tunnel socket. Compose files are read here on the runner;
// interpolation values live only in this one child's environment, so they
// reach the manager inside API request bodies and nowhere else.
import type { DockerCli } from '../docker-cli.js'
import { runOrThrow } from '../docker-cli.js'

export interface DeployPlan {
  stack: string
  composeFiles: string[]
  prune: boolean
  /** Compose interpolation values: the `env` input plus IMAGE. */
  variables: Map<string, string>
}

export function stackDeployArgs(plan: DeployPlan): string[] {
  const args = ['stack', 'deploy', '--with-registry-auth']
  if (plan.prune) args.push('--prune')
  for (const file of plan.composeFiles) args.push('--compose-file', file)
  args.push(plan.stack)
  return args
}

export function deployEnvironment(plan: DeployPlan, socketPath: string): Record<string, string> {
  return { ...Object.fromEntries(plan.variables), DOCKER_HOST: `unix://${socketPath}` }
}

export async function stackDeploy(cli: DockerCli, plan: DeployPlan, socketPath: string): Promise<void> {
  await runOrThrow(cli, 'docker stack deploy', stackDeployArgs(plan), {
    env: deployEnvironment(plan, socketPath),
    cleanEnv: true
  })
}
