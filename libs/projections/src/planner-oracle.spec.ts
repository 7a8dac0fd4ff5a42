import fc from 'fast-check';
import type { DecodedEvent } from '@app/contracts';
import { planBatch } from './batch';
import { emptyModel, foldEvents, modelTables } from './model';
import { historyArbitrary } from './testing/histories';
import { applyPlanToModel, loadFromModel } from './testing/memory-store';

describe('batch planner vs the reference fold', () => {
  it('random histories split into random batches end in the same tables as folding the log event by event', () => {
    fc.assert(
      fc.property(historyArbitrary(), ({ events, batches }) => {
        const model = emptyModel();
        for (const batch of batches) applyPlanToModel(model, planBatch(batch, loadFromModel(model, batch)));
        expect(modelTables(model)).toEqual(modelTables(foldEvents(events)));
      }),
      { numRuns: 1000 },
    );
  });

  it('the same history gives the same tables whatever the batch split (one batch vs one event per batch)', () => {
    fc.assert(
      fc.property(historyArbitrary(), ({ events }) => {
        const whole = emptyModel();
        applyPlanToModel(whole, planBatch(events, loadFromModel(whole, events)));
        const single = emptyModel();
        for (const e of events) applyPlanToModel(single, planBatch([e], loadFromModel(single, [e])));
        expect(modelTables(whole)).toEqual(modelTables(single));
      }),
      { numRuns: 300 },
    );
  });
});

// Issue #6: the runner applies per-partition batches in whatever order partitions are
// fetched, and after a crash or a rebalance Kafka hands some of them over again.

function partitionLogs(events: DecodedEvent[]): DecodedEvent[][] {
  const logs = new Map<string, DecodedEvent[]>();
  for (const e of events) {
    const key = `${e.position.topic}:${e.position.partition}`;
    logs.set(key, [...(logs.get(key) ?? []), e]);
  }
  return [...logs.values()];
}

/** A merge of the partition logs that keeps each one's order, driven by `picks`. */
function interleave(logs: DecodedEvent[][], picks: number[]): DecodedEvent[] {
  const cursors = logs.map(() => 0);
  const out: DecodedEvent[] = [];
  for (let i = 0; out.length < logs.reduce((n, l) => n + l.length, 0); i++) {
    const open = logs.map((_, p) => p).filter((p) => cursors[p]! < logs[p]!.length);
    const p = open[(picks[i % Math.max(1, picks.length)] ?? 0) % open.length]!;
    out.push(logs[p]![cursors[p]!++]!);
  }
  return out;
}

describe('partition order only: interleavings, redelivery and crashes (contract-keyed histories)', () => {
  const contractHistory = historyArbitrary(40, { contractKeys: true });

  it('every interleaving of the partition logs that keeps each partition in order folds to the same tables', () => {
    fc.assert(
      fc.property(contractHistory, fc.array(fc.nat(), { minLength: 1, maxLength: 60 }), ({ events }, picks) => {
        expect(modelTables(foldEvents(interleave(partitionLogs(events), picks)))).toEqual(modelTables(foldEvents(events)));
      }),
      { numRuns: 1000 },
    );
  });

  it("per-partition batches in any interleaving, redelivered from behind the checkpoint, rolled back or committed at random, end in the oracle's tables", () => {
    fc.assert(
      fc.property(
        contractHistory,
        fc.array(fc.record({ partition: fc.nat(), rewind: fc.nat({ max: 6 }), size: fc.integer({ min: 1, max: 8 }), crash: fc.constantFrom('none', 'none', 'before-commit', 'after-commit') }), { maxLength: 200 }),
        ({ events }, steps) => {
          const logs = partitionLogs(events);
          const model = emptyModel();
          // The stored checkpoint (next index) per partition, and Kafka's fetch position (a hint, may lag behind).
          const checkpoint = logs.map(() => 0);
          const fetchAt = logs.map(() => 0);
          const deliver = (step: (typeof steps)[number] | undefined, p: number) => {
            const log = logs[p]!;
            const from = Math.max(0, fetchAt[p]! - (step?.rewind ?? 0));
            const batch = log.slice(from, from + (step?.size ?? log.length));
            // The runner: skip what the checkpoint has seen, plan the rest against the stored rows.
            const fresh = batch.filter((_, i) => from + i >= checkpoint[p]!);
            if (fresh.length === 0) {
              fetchAt[p] = from + batch.length;
              return;
            }
            if (step?.crash === 'before-commit') {
              fetchAt[p] = checkpoint[p]!; // rolled back: the restarted runner fetches from its checkpoint
              return;
            }
            applyPlanToModel(model, planBatch(fresh, loadFromModel(model, fresh)));
            checkpoint[p] = from + batch.length;
            // Committed in PostgreSQL; after a crash here Kafka still has the older position.
            fetchAt[p] = step?.crash === 'after-commit' ? from : from + batch.length;
          };
          for (const step of steps) {
            const open = logs.map((_, p) => p).filter((p) => checkpoint[p]! < logs[p]!.length);
            if (open.length === 0) break;
            deliver(step, open[step.partition % open.length]!);
          }
          // Drain whatever is left, one partition after the other.
          for (let p = 0; p < logs.length; p++) while (checkpoint[p]! < logs[p]!.length) deliver(undefined, p);
          expect(modelTables(model)).toEqual(modelTables(foldEvents(events)));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
