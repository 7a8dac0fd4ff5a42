export const DEFAULT_ARTIFACT_TOPIC = 'prefect.artifacts';
export const DEFAULT_RUN_TOPIC = 'prefect.runs';

export function dlqTopic(topic: string): string {
  return `${topic}.dlq`;
}

export const ARTIFACT_EVENT_TYPES = ['prefect.artifact.created', 'prefect.artifact.updated', 'prefect.artifact.deleted'] as const;

export const RUN_EVENT_TYPES = [
  'prefect.flow.upserted',
  'prefect.flow.deleted',
  'prefect.deployment.upserted',
  'prefect.deployment.deleted',
  'prefect.flow-run.upserted',
  'prefect.flow-run.deleted',
  'prefect.task-run.upserted',
  'prefect.task-run.deleted',
] as const;

export type ArtifactEventType = (typeof ARTIFACT_EVENT_TYPES)[number];
export type RunEventType = (typeof RUN_EVENT_TYPES)[number];
export type EventType = ArtifactEventType | RunEventType;

/** Which of the two topics an event type belongs on. */
export type EventStream = 'artifacts' | 'runs';

const STREAM_OF = new Map<string, EventStream>([
  ...ARTIFACT_EVENT_TYPES.map((t) => [t, 'artifacts'] as const),
  ...RUN_EVENT_TYPES.map((t) => [t, 'runs'] as const),
]);

export function isEventType(type: string): type is EventType {
  return STREAM_OF.has(type);
}

const CANONICAL = new Map<string, EventType>([...ARTIFACT_EVENT_TYPES, ...RUN_EVENT_TYPES].map((t) => [t, t]));

/** The event type constant equal to `type` (one shared string: later comparisons and lookups are cheaper), or undefined. */
export function eventTypeOf(type: string): EventType | undefined {
  return CANONICAL.get(type);
}

export function streamOf(type: EventType): EventStream {
  return STREAM_OF.get(type) as EventStream;
}

export interface TopicNames {
  artifacts: string;
  runs: string;
}

export const DEFAULT_TOPICS: TopicNames = { artifacts: DEFAULT_ARTIFACT_TOPIC, runs: DEFAULT_RUN_TOPIC };

export function topicFor(type: EventType, topics: TopicNames = DEFAULT_TOPICS): string {
  return topics[streamOf(type)];
}
