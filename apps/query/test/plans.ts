import type { Client } from 'pg';
import type { SqlStatement } from '@app/persistence';

// What the plan specs read of PostgreSQL's EXPLAIN (FORMAT JSON).
export interface PlanNode {
  'Node Type': string;
  'Parent Relationship'?: string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Filter?: string;
  Plans?: PlanNode[];
}

/** The node and every node below it. */
export const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

/** Every node of the plan PostgreSQL makes for the statement with its values (planned for them, as an unnamed statement is). */
export async function explain(client: Client, statement: SqlStatement): Promise<PlanNode[]> {
  const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${statement.text}`, statement.values);
  return nodes((rows[0] as { 'QUERY PLAN': [{ Plan: PlanNode }] })['QUERY PLAN'][0].Plan);
}
