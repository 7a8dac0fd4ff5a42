// E2E specs start real processes and wait on Kafka and PostgreSQL: give every hook
// and test a generous default (a project-level `testTimeout` is not applied by Jest 30).
jest.setTimeout(180_000);
