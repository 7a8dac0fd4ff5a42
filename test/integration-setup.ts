// Integration specs talk to a real PostgreSQL; on two busy cores a statement can wait
// seconds for the CPU, far past jest's 5 s default (a project-level testTimeout is ignored).
jest.setTimeout(60_000);
