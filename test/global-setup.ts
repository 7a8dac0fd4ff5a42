// Placeholder until infra/local lands: requires DATABASE_URL / KAFKA_BROKERS.
export default async function globalSetup(): Promise<void> {}
