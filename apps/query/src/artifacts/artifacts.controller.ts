import { Controller, Get, Header, HttpCode, Inject, Param, Post, Req, UseGuards } from '@nestjs/common';
import { storable } from '@app/filters';
import type { FastifyRequest } from 'fastify';
import { ApiPreconditionsGuard } from '../http/api-preconditions.guard';
import { artifactNotFound } from '../http/prefect-errors';
import type { DecodedBody } from '../http/request-body';
import { UUID_SEGMENT, unroutedError } from '../http/routes';
import { QUERY_CONFIG, QueryConfig } from '../query.config';
import { ArtifactReadModel } from './artifact-read-model';
import { parseCountRequest, parseListRequest } from './artifact-requests';

const body = (request: FastifyRequest) => (request.body as DecodedBody | undefined) ?? { kind: 'absent' as const };

/** Prefect's artifact read routes (E1-E6). Answers are JSON text built by the read model. */
@Controller('api/artifacts')
@UseGuards(ApiPreconditionsGuard)
export class ArtifactsController {
  constructor(
    private readonly readModel: ArtifactReadModel,
    @Inject(QUERY_CONFIG) private readonly config: QueryConfig,
  ) {}

  @Post('latest/filter')
  @HttpCode(200)
  @Header('content-type', 'application/json')
  readLatest(@Req() request: FastifyRequest): Promise<string> {
    return this.readModel.list('artifact_collection', parseListRequest('artifact_collection', body(request), this.config.defaultLimit));
  }

  @Post('latest/count')
  @HttpCode(200)
  @Header('content-type', 'application/json')
  countLatest(@Req() request: FastifyRequest): Promise<string> {
    return this.readModel.count('artifact_collection', parseCountRequest('artifact_collection', body(request)));
  }

  @Post('filter')
  @HttpCode(200)
  @Header('content-type', 'application/json')
  read(@Req() request: FastifyRequest): Promise<string> {
    return this.readModel.list('artifact', parseListRequest('artifact', body(request), this.config.defaultLimit));
  }

  @Post('count')
  @HttpCode(200)
  @Header('content-type', 'application/json')
  count(@Req() request: FastifyRequest): Promise<string> {
    return this.readModel.count('artifact', parseCountRequest('artifact', body(request)));
  }

  @Get(':key/latest')
  @Header('content-type', 'application/json')
  async readLatestByKey(@Req() request: FastifyRequest, @Param('key') key: string): Promise<string> {
    // Starlette matches {key} on the decoded path: an empty key or one holding "/" is no route.
    if (key === '' || key.includes('/')) throw unroutedError(request.method, request.url, request.headers.host);
    const artifact = storable(key) ? await this.readModel.latestByKey(key) : undefined;
    if (artifact === undefined) throw artifactNotFound();
    return artifact;
  }

  // Starlette's uuid convertor: only UUID-looking segments reach this route.
  @Get(`:id(^${UUID_SEGMENT}$)`)
  @Header('content-type', 'application/json')
  async readById(@Param('id') id: string): Promise<string> {
    const artifact = await this.readModel.byId(id.replaceAll('-', '').toLowerCase());
    if (artifact === undefined) throw artifactNotFound();
    return artifact;
  }
}
