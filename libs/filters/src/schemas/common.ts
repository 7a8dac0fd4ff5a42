import { z } from 'zod';
import { enumField, strField, uuidField } from '../pydantic/lax';

// Every Prefect filter class forbids unknown members (extra="forbid"); every
// member but `operator` is nullable, and null means "no condition".

export const OPERATORS = ['and_', 'or_'] as const;
export type Operator = (typeof OPERATORS)[number];

export const STATE_TYPES = [
  'SCHEDULED',
  'PENDING',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'CRASHED',
  'PAUSED',
  'CANCELLING',
] as const;

/** PrefectFilterBaseModel: a strict object whose members are all optional. */
export function filterObject<S extends z.ZodRawShape>(id: string, description: string, shape: S) {
  return z.strictObject(shape).meta({ id, description });
}

/**
 * PrefectOperatorFilterBaseModel. `operator` is inherited, so Pydantic declares
 * (and reports errors for) it before the subclass's own members.
 */
export function operatorFilterObject<S extends z.ZodRawShape>(id: string, description: string, shape: S) {
  const operator = enumField(OPERATORS, 'How the conditions of this object are combined: all of them (and_, the default) or any of them (or_).').default('and_');
  return z.strictObject({ operator, ...shape }).meta({ id, description });
}

/** An optional (nullable) filter member, documented with its filter object's description. */
export function member<S extends z.ZodType>(schema: S) {
  return schema.nullish().meta({ description: schema.meta()?.description });
}

export const uuidList = (description: string) => z.array(uuidField('A UUID, in any case, with or without hyphens.')).nullish().meta({ description });
export const strList = (description: string) => z.array(strField('An exact, case-sensitive value.')).nullish().meta({ description });
export const stateTypeList = (description: string) =>
  z.array(enumField(STATE_TYPES, 'A run state type.')).nullish().meta({ description });

export const LIKE_DESCRIPTION =
  'Case-insensitive substring match. `%` (any run of characters) and `_` (one character) inside the value are live wildcards; an empty string imposes nothing.';
