import { CountArtifactsBody, CountLatestArtifactsBody, ReadArtifactsBody, ReadLatestArtifactsBody } from '../schemas/bodies';
import { countStatement, listRequest, listStatement } from './artifact-statements';

// Which statements the query app runs unnamed (planned with their values each time)
// rather than prepared: those whose best plan depends on how much a run filter's target owns.

const RUN_FILTERS = [
  { deployments: { id: { any_: ['6f9619ff-8b86-d011-b42d-00c04fc964ff'] } } },
  { flows: { tags: { all_: ['team-1'] } } },
  { flow_runs: { state: { type: { any_: ['COMPLETED'] } } } },
  { task_runs: {} },
  { flow_runs: {}, artifacts: { type: { any_: ['table'] } } },
];
const OWN_FILTERS = [{}, { artifacts: { key: { any_: ['a'] } } }, { artifacts: { type: { any_: ['table'] } } }];

describe('customPlan', () => {
  it.each(RUN_FILTERS)('is set for %j on every route', (filters) => {
    expect(listStatement('artifact', listRequest(ReadArtifactsBody.parse(filters), 200)).customPlan).toBe(true);
    expect(listStatement('artifact_collection', listRequest(ReadLatestArtifactsBody.parse({ ...filters, offset: 10 }), 200)).customPlan).toBe(true);
    expect(countStatement('artifact', CountArtifactsBody.parse(filters)).customPlan).toBe(true);
    expect(countStatement('artifact_collection', CountLatestArtifactsBody.parse(filters)).customPlan).toBe(true);
  });

  it.each(OWN_FILTERS)('is not set for %j', (filters) => {
    expect(listStatement('artifact', listRequest(ReadArtifactsBody.parse(filters), 200)).customPlan).toBeFalsy();
    expect(listStatement('artifact_collection', listRequest(ReadLatestArtifactsBody.parse({ ...filters, offset: 10 }), 200)).customPlan).toBeFalsy();
    expect(countStatement('artifact', CountArtifactsBody.parse(filters)).customPlan).toBeFalsy();
  });
});
