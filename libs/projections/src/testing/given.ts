import type { DecodedEvent } from '@app/contracts';
import { BatchPlan, planBatch } from '../batch';
import { emptyModel, foldEvents, modelTables, ReadModelTables } from '../model';
import { applyPlanToModel, loadFromModel } from './memory-store';

/**
 * given(history).when(batch) plans `batch` against the tables `history` left,
 * applies it with the SQL's semantics, and checks that the result equals the
 * reference fold of history + batch before handing back the plan and tables.
 */
export function given(...history: DecodedEvent[]) {
  const model = emptyModel();
  if (history.length) applyPlanToModel(model, planBatch(history, loadFromModel(model, history)));
  return {
    when(...batch: DecodedEvent[]): { plan: BatchPlan; tables: ReadModelTables } {
      const plan = planBatch(batch, loadFromModel(model, batch));
      applyPlanToModel(model, plan);
      const tables = modelTables(model);
      expect(tables).toEqual(modelTables(foldEvents([...history, ...batch])));
      return { plan, tables };
    },
  };
}
