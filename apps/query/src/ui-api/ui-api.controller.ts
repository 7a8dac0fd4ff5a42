import { Controller, Get, Header, HttpCode, Inject, Param, Post, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiPreconditionsGuard } from '../http/api-preconditions.guard';
import { artifactNotFound, detailError } from '../http/prefect-errors';
import type { DecodedBody } from '../http/request-body';
import { UUID_SEGMENT } from '../http/routes';
import { QUERY_CONFIG, QueryConfig } from '../query.config';
import { UiReadModel } from './ui-read-model';
import { parseUiListRequest } from './ui-requests';

const body = (request: FastifyRequest) => (request.body as DecodedBody | undefined) ?? { kind: 'absent' as const };
const uuid = (id: string) => id.replaceAll('-', '').toLowerCase();

/**
 * The web page's reads, one request per view, under /ui-api (a prefix Prefect
 * does not use; Prefect's routes are untouched). Errors in Prefect's shapes:
 * 422 for a bad body, 404 `{detail}` for an unknown id.
 */
@Controller('ui-api')
@UseGuards(ApiPreconditionsGuard)
export class UiApiController {
  constructor(
    private readonly readModel: UiReadModel,
    @Inject(QUERY_CONFIG) private readonly config: QueryConfig,
  ) {}

  @Post('artifacts/latest')
  @HttpCode(200)
  @Header('content-type', 'application/json')
  @Header('cache-control', 'no-store')
  latest(@Req() request: FastifyRequest): Promise<string> {
    return this.readModel.latest(parseUiListRequest(body(request), this.config.defaultLimit));
  }

  @Get(`artifacts/:id(^${UUID_SEGMENT}$)`)
  @Header('content-type', 'application/json')
  @Header('cache-control', 'no-store')
  async artifact(@Param('id') id: string): Promise<string> {
    const answer = await this.readModel.artifact(uuid(id));
    if (answer === undefined) throw artifactNotFound();
    return answer;
  }

  @Get(`runs/:id(^${UUID_SEGMENT}$)`)
  @Header('content-type', 'application/json')
  @Header('cache-control', 'no-store')
  async run(@Param('id') id: string): Promise<string> {
    const answer = await this.readModel.run(uuid(id));
    if (answer === undefined) throw detailError(404, 'Run not found.');
    return answer;
  }
}
