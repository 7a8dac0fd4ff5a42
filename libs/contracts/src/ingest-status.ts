// The ingest app's JSON answers, GET /ready and GET /status (docs/operations.md): one
// declaration for the app that writes them and for their readers (the query app's web
// page, `events lag`, the bench and the tests). Offsets are decimal strings: they are
// 64-bit in Kafka.

/** One topic-partition: the high-water mark read from Kafka, the stored checkpoint (next offset to apply; null before the first), the difference. */
export interface PartitionProgress {
  topic: string;
  partition: number;
  high_watermark: string;
  checkpoint: string | null;
  lag: string;
}

/** GET /ready's body. */
export interface ProgressReport {
  caught_up: boolean;
  partitions: PartitionProgress[];
}

/** One series of an event counter: its labels and its count. */
export interface CountSeries {
  topic?: string;
  type?: string;
  reason?: string;
  count: number;
}

/** The event counters since the process started, series by series: what tests and tools read instead of the Prometheus text. */
export interface IngestCounts {
  consumed: CountSeries[];
  applied: CountSeries[];
  ignored: CountSeries[];
  dead_lettered: CountSeries[];
  redelivered: CountSeries[];
  retries: CountSeries[];
  fenced: CountSeries[];
}

/** The batch histograms' counts and sums of one topic since the process started (the bench's write cost). */
export interface BatchTotals {
  topic: string;
  /** Batches applied. */
  batches: number;
  /** Messages in them (ingest_batch_size_messages_sum). */
  messages: number;
  /** Seconds spent applying them, transactions included (ingest_batch_duration_seconds_sum). */
  seconds: number;
}

/** GET /status's body: always answered; what could not be read is null, with `error`. */
export interface IngestStatus {
  started_at: string;
  /** Counts of the last `seconds`, kept as batches commit; `from` is the process start when the process is younger. */
  window: { seconds: number; from: string; to: string; applied: number; dead_lettered: number };
  events_per_second: number;
  since_start: { applied: number; dead_lettered: number; counts: IngestCounts; batches: BatchTotals[] };
  /** This group's checkpoint rows' totals. */
  durable: { applied_messages: string; dead_lettered: string } | null;
  caught_up: boolean | null;
  /** null freshness: unknown (another instance owns the partition, or nothing was applied from it yet). */
  partitions: (PartitionProgress & { freshness_seconds: number | null })[];
  error?: string;
}
