import type { DecodedEvent } from '@app/contracts';
import { BatchPlan, planBatch } from '../batch';
import { emptyModel, foldEvents, modelTables, ReadModelTables } from '../model';
import { applyPlanToModel, loadFromModel } from './memory-store';

/** Checks one given/when case somewhere else (PostgreSQL): `history` as one batch, then `batch`, must leave `expected`. */
export type CaseCheck = (history: DecodedEvent[], batch: DecodedEvent[], expected: ReadModelTables) => Promise<void>;

let check: CaseCheck | undefined;
let pending: Promise<void> = Promise.resolve();

/**
 * From now on every when() also hands its case to `caseCheck`, one after the other;
 * `settleCaseChecks()` (an afterEach) waits for them, so a mismatch fails the test
 * whose case it was. The projection specs stay synchronous and need no database.
 */
export function checkEachCaseWith(caseCheck: CaseCheck): void {
  check = caseCheck;
}

export function settleCaseChecks(): Promise<void> {
  const settled = pending;
  pending = Promise.resolve();
  return settled;
}

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
      const caseCheck = check;
      if (caseCheck) pending = pending.then(() => caseCheck(history, batch, tables));
      return { plan, tables };
    },
  };
}
