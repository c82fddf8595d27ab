import { describe, expect, it } from '@jest/globals'
import { buildArgs, digestFromPushOutput, digestFromRepoDigests } from '../../src/build/image.js'
import { demuxLogs, describeFailure } from '../../src/converge/diagnose.js'
import { deployEnvironment, stackDeployArgs } from '../../src/deploy/stack-deploy.js'
import { loginArgs, resolveAuth } from '../../src/registry/login.js'
import { redact, redactSnapshot } from '../../src/secrets.js'
import type { Snapshot } from '../../src/swarm/model.js'

const DIGEST = `sha256:${'ab'.repeat(32)}`

describe('build', () => {
  it('passes build-arg names only, so values stay out of argv', () => {
    const args = buildArgs({
      repository: '10.77.0.1:5000/demo/app',
      tags: ['abc', 'latest'],
      context: 'app',
      dockerfile: 'app/Dockerfile',
      buildArgs: new Map([['VERSION', 's3cr3t-build-value']])
    })
    expect(args).toEqual([
      'build',
      '--file',
      'app/Dockerfile',
      '--tag',
      '10.77.0.1:5000/demo/app:abc',
      '--tag',
      '10.77.0.1:5000/demo/app:latest',
      '--build-arg',
      'VERSION',
      'app'
    ])
    expect(args.join(' ')).not.toContain('s3cr3t')
  })

  it('reads the digest from push output or RepoDigests', () => {
    expect(digestFromPushOutput(`The push refers to repository [x]\nabc: Pushed\nabc: digest: ${DIGEST} size: 528\n`)).toBe(DIGEST)
    expect(digestFromPushOutput('nothing here')).toBeUndefined()
    expect(digestFromRepoDigests(JSON.stringify([`other/x@sha256:${'00'.repeat(32)}`, `acme/api@${DIGEST}`]), 'docker.io/acme/api')).toBe(DIGEST)
  })
})

describe('deploy', () => {
  it('always sends registry auth and merges compose files in order', () => {
    const plan = { stack: 'web', composeFiles: ['a.yml', 'b.yml'], prune: true, variables: new Map([['DB_PASSWORD', 'hunter2']]) }
    expect(stackDeployArgs(plan)).toEqual(['stack', 'deploy', '--with-registry-auth', '--prune', '--compose-file', 'a.yml', '--compose-file', 'b.yml', 'web'])
    expect(stackDeployArgs(plan).join(' ')).not.toContain('hunter2')
    expect(deployEnvironment(plan, '/tmp/sd-x/docker.sock')).toEqual({ DB_PASSWORD: 'hunter2', DOCKER_HOST: 'unix:///tmp/sd-x/docker.sock' })
  })
})

describe('registry login', () => {
  it('reads the password from stdin, never argv', () => {
    expect(loginArgs({ registry: 'ghcr.io', username: 'me', password: 'pw' })).toEqual(['login', '--username', 'me', '--password-stdin', 'ghcr.io'])
    expect(loginArgs({ registry: 'docker.io', username: 'me', password: 'pw' })).toEqual(['login', '--username', 'me', '--password-stdin'])
  })
})

describe('diagnostics', () => {
  it('demultiplexes docker log frames', () => {
    const frame = (stream: number, text: string): Buffer => {
      const header = Buffer.alloc(8)
      header[0] = stream
      header.writeUInt32BE(Buffer.byteLength(text), 4)
      return Buffer.concat([header, Buffer.from(text)])
    }
    expect(demuxLogs(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')]))).toBe('out\nerr\n')
    expect(demuxLogs(Buffer.from('plain tty text\n'))).toBe('plain tty text\n')
  })

  it('describes a failed task with node and exit code', () => {
    expect(
      describeFailure({
        taskId: 'abcdefabcdefabcdef',
        service: 'web_app',
        slot: 2,
        node: 'swl-wrk',
        state: 'failed',
        error: 'task: non-zero exit (137): dockerexec: unhealthy container',
        exitCode: 137,
        containerId: undefined
      })
    ).toBe('web_app.2 task abcdefabcdef on swl-wrk: failed: task: non-zero exit (137): dockerexec: unhealthy container (exit code 137)')
  })

  it('redacts secrets and their lines from remote text', () => {
    expect(redact('pw=hunter2 and line-two-of-cert', ['hunter2', 'line-one\nline-two-of-cert'])).toBe('pw=*** and ***')
  })

  it('redacts what Swarm reports in a snapshot, leaving names and states', () => {
    const snapshot: Snapshot = {
      services: [
        {
          ID: 's1',
          Version: { Index: 1 },
          Spec: { Name: 'web_app', TaskTemplate: {}, Mode: {} },
          UpdateStatus: { State: 'paused', Message: 'update paused: hunter2' }
        }
      ],
      tasks: [
        {
          ID: 't1',
          ServiceID: 's1',
          Spec: {},
          DesiredState: 'running',
          Status: { State: 'rejected', Err: 'bind source path does not exist: /srv/hunter2', Message: 'hunter2' }
        }
      ],
      nodes: []
    }
    const clean = redactSnapshot(snapshot, ['hunter2'])
    expect(clean.services[0]!.UpdateStatus).toEqual({ State: 'paused', Message: 'update paused: ***' })
    expect(clean.services[0]!.Spec.Name).toBe('web_app')
    expect(clean.tasks[0]!.Status).toEqual({ State: 'rejected', Err: 'bind source path does not exist: /srv/***', Message: '***' })
  })
})

describe('registry credentials', () => {
  const noEcr = async (): Promise<never> => {
    throw new Error('ECR must not be asked')
  }
  it('uses given credentials, asks ECR only for an ECR registry without them', async () => {
    expect(await resolveAuth({ registry: 'ghcr.io', username: 'u', password: 'p' }, noEcr)).toEqual({ registry: 'ghcr.io', username: 'u', password: 'p' })
    expect(await resolveAuth({ registry: 'ghcr.io' }, noEcr)).toBeUndefined()
    expect(await resolveAuth(undefined, noEcr)).toBeUndefined()
    const regions: string[] = []
    const ecr = async (region: string) => {
      regions.push(region)
      return { username: 'AWS', password: 'token' }
    }
    expect(await resolveAuth({ registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com' }, ecr)).toEqual({
      registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      username: 'AWS',
      password: 'token'
    })
    expect(regions).toEqual(['eu-west-1'])
  })
})
