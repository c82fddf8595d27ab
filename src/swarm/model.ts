// The slice of the Engine API's swarm objects the verdict reads. Field names
// are the API's own, so recorded JSON from a real engine is a valid fixture.
// Every field is present in API 1.41 (Engine 20.10) and in later versions.

/** The label `docker stack deploy` puts on everything a stack owns. */
export const STACK_LABEL = 'com.docker.stack.namespace'

export type UpdateState = 'updating' | 'paused' | 'completed' | 'rollback_started' | 'rollback_paused' | 'rollback_completed'

/** Durations in nanoseconds, as the API gives them. */
export interface Healthcheck {
  Test?: string[]
  Interval?: number
  Timeout?: number
  Retries?: number
  StartPeriod?: number
}

export interface ContainerSpec {
  Image?: string
  Env?: string[]
  Healthcheck?: Healthcheck
}

/** CPUs in billionths, memory in bytes, as the API gives them. */
export interface ResourceAmounts {
  NanoCPUs?: number
  MemoryBytes?: number
}

export interface TaskSpec {
  ContainerSpec?: ContainerSpec
  ForceUpdate?: number
  Resources?: { Reservations?: ResourceAmounts; Limits?: ResourceAmounts }
  Placement?: {
    Constraints?: string[]
    Preferences?: unknown[]
    /** Tasks of the service one node may run; 0 or absent: no limit. */
    MaxReplicas?: number
    Platforms?: Array<{ OS?: string; Architecture?: string }>
  }
}

export interface Service {
  ID: string
  Version: { Index: number }
  CreatedAt?: string
  UpdatedAt?: string
  Spec: {
    Name: string
    Labels?: Record<string, string>
    TaskTemplate: TaskSpec
    UpdateConfig?: { Parallelism?: number; Delay?: number; FailureAction?: string; Monitor?: number; MaxFailureRatio?: number; Order?: string }
    Mode: {
      Replicated?: { Replicas?: number }
      Global?: Record<string, never>
      ReplicatedJob?: { MaxConcurrent?: number; TotalCompletions?: number }
      GlobalJob?: Record<string, never>
    }
  }
  PreviousSpec?: { TaskTemplate: TaskSpec }
  UpdateStatus?: { State?: UpdateState; StartedAt?: string; CompletedAt?: string; Message?: string }
}

export type TaskState =
  | 'new'
  | 'allocated'
  | 'pending'
  | 'assigned'
  | 'accepted'
  | 'preparing'
  | 'ready'
  | 'starting'
  | 'running'
  | 'complete'
  | 'shutdown'
  | 'failed'
  | 'rejected'
  | 'remove'
  | 'orphaned'

export interface Task {
  ID: string
  CreatedAt?: string
  ServiceID: string
  Slot?: number
  NodeID?: string
  Spec: TaskSpec
  DesiredState: TaskState
  Status: {
    Timestamp?: string
    State: TaskState
    Message?: string
    Err?: string
    ContainerStatus?: { ContainerID?: string; ExitCode?: number }
  }
}

export interface Node {
  ID: string
  Description?: {
    Hostname?: string
    Platform?: { OS?: string; Architecture?: string }
    Engine?: { Labels?: Record<string, string> | null }
    /** What the node offers the scheduler (the host's CPUs and memory, unless the engine was told less). */
    Resources?: ResourceAmounts
  }
  Status: { State: 'unknown' | 'down' | 'ready' | 'disconnected'; Addr?: string }
  Spec?: { Availability?: 'active' | 'pause' | 'drain'; Role?: string; Labels?: Record<string, string> | null }
}

/** Everything the judge needs, fetched in one poll cycle (three API calls). */
export interface Snapshot {
  services: Service[]
  tasks: Task[]
  nodes: Node[]
  /**
   * What the tasks of every stack reserve on each node, by node ID: read
   * only while tasks wait for capacity (src/converge/capacity.ts). Absent:
   * the snapshot's own tasks are all that is counted.
   */
  reserved?: Record<string, ResourceAmounts>
}
