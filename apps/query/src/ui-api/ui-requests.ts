import { dateTimeField, LIST_PARAMETERS, ListRequest, listRequest, ReadLatestArtifactsBody } from '@app/filters';
import { validate, validationInput } from '../artifacts/artifact-requests';
import { detailError } from '../http/prefect-errors';
import type { DecodedBody } from '../http/request-body';

// The web page's list request: Prefect's own body for POST
// /api/artifacts/latest/filter (same filter language, same validation and
// errors), plus one member Prefect's filters lack.

export const UiLatestArtifactsBody = ReadLatestArtifactsBody.extend({
  updated_after: dateTimeField(
    "Only keys whose latest version was created or edited at or after this instant (the collection's `updated`). Not one of Prefect's filters.",
  ).nullish(),
}).meta({
  id: 'UiLatestArtifactsBody',
  description: "Prefect's ReadLatestArtifactsBody (filters, sort, limit, offset) plus `updated_after`.",
});

export interface UiListRequest extends ListRequest<'artifact_collection'> {
  updatedAfter: string | undefined;
}

export function parseUiListRequest(body: DecodedBody, maxLimit: number): UiListRequest {
  const input = validationInput(body, [...LIST_PARAMETERS, 'updated_after']);
  const limit = input === undefined ? undefined : UiLatestArtifactsBody.shape.limit.safeParse((input as Record<string, unknown>).limit);
  if (limit?.success && limit.data != null) {
    if (limit.data < 0) throw detailError(422, 'Invalid limit: must be greater than or equal to 0.');
    if (limit.data > maxLimit) throw detailError(422, `Invalid limit: must be less than or equal to ${maxLimit}.`);
  }
  const parsed = validate(UiLatestArtifactsBody, input, body);
  return { ...listRequest(parsed, maxLimit), updatedAfter: parsed.updated_after ?? undefined };
}
