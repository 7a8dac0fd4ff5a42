import { Sql } from './sql';

export interface CheckpointKey {
  groupId: string;
  topic: string;
  partition: number;
}

/** Reads the stored position without locking it. */
export async function readCheckpoint(sql: Sql, key: CheckpointKey): Promise<bigint | null> {
  const { rows } = await sql.query<{ next_offset: string }>({
    text: 'SELECT next_offset FROM consumer_checkpoint WHERE group_id = $1 AND topic = $2 AND partition = $3',
    values: [key.groupId, key.topic, key.partition],
  });
  return rows[0] ? BigInt(rows[0].next_offset) : null;
}

/** Reads the stored position and locks it for the rest of the transaction. */
export async function lockCheckpoint(sql: Sql, key: CheckpointKey): Promise<bigint | null> {
  const { rows } = await sql.query<{ next_offset: string }>({
    text: 'SELECT next_offset FROM consumer_checkpoint WHERE group_id = $1 AND topic = $2 AND partition = $3 FOR UPDATE',
    values: [key.groupId, key.topic, key.partition],
  });
  return rows[0] ? BigInt(rows[0].next_offset) : null;
}

/** What a batch applied, added to the checkpoint row's durable tallies in the same statement that moves it. */
export interface AppliedCounts {
  /** Messages applied: events and dead letters. */
  messages: number;
  deadLettered: number;
}

/**
 * Compare-and-set of the position: succeeds only if the stored position is still
 * the one this batch started from. A stale instance that lost the partition in a
 * rebalance fails here and must roll its whole batch back.
 */
export async function advanceCheckpoint(sql: Sql, key: CheckpointKey, expected: bigint | null, next: bigint, counts: AppliedCounts): Promise<boolean> {
  const values = [key.groupId, key.topic, key.partition, next.toString(), counts.messages, counts.deadLettered];
  const result =
    expected === null
      ? await sql.query({
          text: `INSERT INTO consumer_checkpoint (group_id, topic, partition, next_offset, applied_messages, dead_lettered) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (group_id, topic, partition) DO NOTHING`,
          values,
        })
      : await sql.query({
          text: `UPDATE consumer_checkpoint SET next_offset = $4, applied_messages = applied_messages + $5, dead_lettered = dead_lettered + $6, updated_at = now()
                 WHERE group_id = $1 AND topic = $2 AND partition = $3 AND next_offset = $7`,
          values: [...values, expected.toString()],
        });
  return result.rowCount === 1;
}

export async function readCheckpoints(sql: Sql, groupId: string): Promise<Map<string, bigint>> {
  const { rows } = await sql.query<{ topic: string; partition: number; next_offset: string }>({
    text: 'SELECT topic, partition, next_offset FROM consumer_checkpoint WHERE group_id = $1',
    values: [groupId],
  });
  return new Map(rows.map((r) => [`${r.topic}:${r.partition}`, BigInt(r.next_offset)]));
}
