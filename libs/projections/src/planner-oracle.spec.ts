import fc from 'fast-check';
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
