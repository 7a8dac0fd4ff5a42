import { Controller, Get, Header, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { QueryDatabase } from '../query-database';
import { ApiPreconditionsGuard } from './api-preconditions.guard';
import { EXCEPTION_BODIES } from './prefect-errors';

/**
 * The Prefect server version we answer as. Prefect's client only requires the
 * major version to equal its own (raise_for_api_version_mismatch), so any 3.x
 * client accepts it.
 */
export const PREFECT_SERVER_VERSION = '3.6.0';

/** Prefect's root routes: liveness, readiness (PostgreSQL answers), and the version the client checks first. */
@Controller('api')
@UseGuards(ApiPreconditionsGuard)
export class HealthController {
  constructor(private readonly db: QueryDatabase) {}

  @Get('health')
  @Header('content-type', 'application/json')
  health(): string {
    return 'true';
  }

  // Prefect's body; with standbys (DATABASE_READ_URLS) also each read pool's state and lag.
  @Get('ready')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    const up = await this.db.ping();
    const pools = this.db.readPools().map((p) => ({ name: p.name, role: p.role, state: p.state, replay_lag_bytes: p.replayLagBytes, replay_lag_seconds: p.replayLagSeconds }));
    const body = up ? (pools.length > 1 ? JSON.stringify({ message: 'OK', read_pools: pools }) : '{"message":"OK"}') : EXCEPTION_BODIES.unavailable;
    reply
      .status(up ? 200 : 503)
      .header('content-type', 'application/json')
      .send(body);
  }

  @Get('admin/version')
  @Header('content-type', 'application/json')
  version(): string {
    return JSON.stringify(PREFECT_SERVER_VERSION);
  }
}

