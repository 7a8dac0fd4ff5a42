import { z } from 'zod';

// The response objects, for the OpenAPI document only: the answers themselves
// are built as JSON text in SQL (libs/persistence/src/artifact-json.ts), with exactly these
// members in this order (a unit test holds the two together).

const id = (description: string) => z.string().meta({ format: 'uuid', description });
const instant = (description: string) =>
  z.string().meta({ format: 'date-time', description: `${description} UTC, Z suffix, 6 fractional digits unless all are zero.` });
const common = {
  key: z.string().nullable().meta({ description: 'The key naming a series of versions; null for a keyless artifact.' }),
  type: z.string().nullable().meta({ description: 'Free-form kind, e.g. markdown, table, result, progress, link, image.' }),
  description: z.string().nullable().meta({ description: 'Markdown text.' }),
  data: z.unknown().meta({ description: 'Any JSON value, returned exactly as stored (1 and 1.0 stay distinct, big integers exact).' }),
  metadata_: z.record(z.string(), z.string()).nullable().meta({ description: 'String-to-string metadata.' }),
  flow_run_id: id('The flow run the version was created in (not checked to exist).').nullable(),
  task_run_id: id('The task run the version was created in (not checked to exist).').nullable(),
};

export const ArtifactResponse = z
  .object({
    id: id('The version id (for GET /api/artifacts/{key}/latest: the id of the key\'s collection row).'),
    created: instant('When the version was created.'),
    updated: instant('When the version was created or last edited.'),
    ...common,
  })
  .meta({ id: 'Artifact', description: 'One artifact version.' });

export const ArtifactCollectionResponse = z
  .object({
    id: id('The id of the key\'s collection row; stable while the key has versions.'),
    created: instant('When the key first appeared (or, after deleting its latest version, when the promoted version was created).'),
    updated: instant('When the latest version was created or last edited.'),
    key: z.string().meta({ description: 'The key.' }),
    latest_id: id('The id of the version considered latest.'),
    type: common.type,
    description: common.description,
    data: common.data,
    metadata_: common.metadata_,
    flow_run_id: common.flow_run_id,
    task_run_id: common.task_run_id,
  })
  .meta({ id: 'ArtifactCollection', description: 'The latest artifact of one key, with the collection row\'s own id and times.' });
