import { describe, expect, it } from '@jest/globals'
import * as YAML from 'yaml'
import { keptLine, keptReplicas, replicasFile } from '../../../src/deploy/keep-replicas.js'
import type { Service } from '../../../src/swarm/model.js'

const live = (name: string, replicas: number | undefined): Service => ({
  ID: name,
  Version: { Index: 1 },
  Spec: { Name: `cap_${name}`, TaskTemplate: {}, Mode: replicas === undefined ? { Global: {} } : { Replicated: { Replicas: replicas } } }
})
const file = (text: string) => [{ path: 'docker-compose.yml', text }]
const COMPOSE = `version: "3.8"
services:
  web:
    image: app
    deploy:
      replicas: 3
  worker:
    image: app
    deploy:
      labels:
        io.swarm-deploy.replicas: keep
  cron:
    image: app
    deploy:
      labels: ["a=b", "io.swarm-deploy.replicas=keep"]
  agent:
    image: app
    deploy:
      mode: global
  fresh:
    image: app
`
const swarm = [live('web', 5), live('worker', 4), live('cron', 0), live('agent', undefined)]

describe('keptReplicas', () => {
  it('with keep-replicas, keeps the live count of every existing replicated service that differs', () => {
    expect(keptReplicas(file(COMPOSE), swarm, 'cap', true)).toEqual([
      { service: 'web', live: 5, file: 3 },
      { service: 'worker', live: 4, file: 1 },
      { service: 'cron', live: 0, file: 1 }
    ])
  })

  it('without it, only the services labelled keep, as a map or as key=value lines', () => {
    expect(keptReplicas(file(COMPOSE), swarm, 'cap', false).map(k => k.service)).toEqual(['worker', 'cron'])
  })

  it('a new service gets the file count; a later file overrides an earlier one', () => {
    const override = {
      path: 'prod.yml',
      text: 'services:\n  web:\n    deploy:\n      replicas: 5\n  worker:\n    deploy:\n      labels:\n        io.swarm-deploy.replicas: "no"\n'
    }
    expect(keptReplicas([...file(COMPOSE), override], swarm, 'cap', false).map(k => k.service)).toEqual(['cron'])
    expect(keptReplicas([...file(COMPOSE), override], swarm, 'cap', true).map(k => k.service)).toEqual(['worker', 'cron'])
  })
})

describe('replicasFile', () => {
  it('sets only deploy.replicas, in the version of the first file', () => {
    const text = replicasFile(file(COMPOSE), [{ service: 'web', live: 5, file: 3 }])
    expect(YAML.parse(text)).toEqual({ version: '3.8', services: { web: { deploy: { replicas: 5 } } } })
    expect(keptLine({ service: 'web', live: 5, file: 3 })).toBe('web keeps its live replica count, 5 (the compose file says 3)')
  })
})
