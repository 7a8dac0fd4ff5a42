export {
  ARTIFACT_EVENT_TYPES,
  RUN_EVENT_TYPES,
  DEFAULT_ARTIFACT_TOPIC,
  DEFAULT_RUN_TOPIC,
  DEFAULT_TOPICS,
  dlqTopic,
  isEventType,
  streamOf,
  topicFor,
} from './topics';
export type { ArtifactEventType, RunEventType, EventType, EventStream, TopicNames } from './topics';

export { JsonNumber, JsonSyntaxError, MAX_JSON_DEPTH, canonicalJson, parseJson, pydanticFloatJson, pythonFloatRepr, rawJson, RawJson, stringifyJson } from './json';
export type { JsonObject, JsonValue } from './json';

export { ARTIFACT_KEY_PATTERN, METADATA_VALUE_MAX_CHARS, normaliseTimestamp, normaliseUuid, truncateMetadataValue } from './scalars';

export { artifactKeySchema, completePayload, jsonDataSchema, metadataSchema, payloadKinds, payloadSchemas, timestampSchema, uuidSchema } from './payloads';
export type {
  ArtifactCreated,
  ArtifactDeleted,
  ArtifactUpdated,
  CreatedBy,
  DeploymentUpserted,
  EntityDeleted,
  FlowRunUpserted,
  FlowUpserted,
  PayloadTypes,
  TaskRunUpserted,
  ValueKind,
  WirePayloads,
} from './payloads';

export { DEAD_LETTER_REASONS, DECODE_FAILURE_REASONS, decodeMessage, payloadProblems } from './cloudevents';
export type { CloudEventAttributes, ContractEvent, DeadLetterReason, DecodedEvent, DecodeFailureReason, SourcePosition, DecodeResult, EventOf, HeaderValue, KafkaMessageLike } from './cloudevents';

export { encodeEvent, messageKey } from './encode';
export type { CloudEventMode, EncodedMessage, EncodeOptions } from './encode';

export { buildEvent, createEventBuilders, EVENT_BUILDER_NAMES, eventBuilders, EventPublisher, InvalidEventError, RELIABLE_PRODUCER } from './producer';
export type { BuildOptions, BuiltEvent, EventBuilders, EventPublisherOptions, EventSender, ProducerRecordLike, PublishedEvent, PublishMethods } from './producer';

export {
  CONSISTENCY_TOKEN_VERSION,
  decodeConsistencyToken,
  encodeConsistencyToken,
  InvalidConsistencyTokenError,
  MAX_CONSISTENCY_TOKEN_CHARS,
  mergeOffsets,
  offsetsOfSend,
  trackPartitions,
} from './consistency';
export type { ConsistencyOffsets, PartitionerFunction } from './consistency';

export { ConfigError, ENVIRONMENT, LOG_LEVELS, readEnvironment, readKafkaSecurity } from './environment';
export type { EnvironmentValues } from './environment';
export { kafkaClientConfig, kafkaClientSecurity, KafkaSecurityError, parseKafkaSecurity, SASL_MECHANISMS } from './kafka-security';
export type { KafkaClientConfig, KafkaClientSecurity, KafkaClientTiming, KafkaSecurity, SaslMechanism } from './kafka-security';
export type { BatchTotals, CountSeries, IngestCounts, IngestStatus, PartitionProgress, ProgressReport } from './ingest-status';

export { PartitionedSender, partitionsOf } from './partitioned-sender';
export type { Partitioner, PartitionInfo, PartitionableMessage, TopicMetadataSource } from './partitioned-sender';
export { createTopicsSettled, kafkaErrorType, whileTopicsSettle } from './topic-creation';
export type { TopicAdmin, TopicSpec } from './topic-creation';
