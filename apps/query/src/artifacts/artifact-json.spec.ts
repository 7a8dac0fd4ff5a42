import { ARTIFACT_COLLECTION_MEMBERS, ARTIFACT_MEMBERS } from '@app/filters';
import { ArtifactCollectionResponse, ArtifactResponse } from './artifact-responses';

// The SQL builders and the documented response schemas must agree on Prefect's member order (§9.1, §9.2).
describe('response members', () => {
  it('Artifact', () => {
    expect(ARTIFACT_MEMBERS).toEqual(Object.keys(ArtifactResponse.shape));
    expect(ARTIFACT_MEMBERS).toEqual(['id', 'created', 'updated', 'key', 'type', 'description', 'data', 'metadata_', 'flow_run_id', 'task_run_id']);
  });

  it('ArtifactCollection', () => {
    expect(ARTIFACT_COLLECTION_MEMBERS).toEqual(Object.keys(ArtifactCollectionResponse.shape));
    expect(ARTIFACT_COLLECTION_MEMBERS).toEqual([
      'id', 'created', 'updated', 'key', 'latest_id', 'type', 'description', 'data', 'metadata_', 'flow_run_id', 'task_run_id',
    ]);
  });
});
