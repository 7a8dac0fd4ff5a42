import { Controller, Get, Header, HttpCode, Inject, Param, Post, Req, UseGuards } from '@nestjs/common';
import { storable } from '@app/filters';
import type { FastifyRequest } from 'fastify';
import { ApiPreconditionsGuard } from '../http/api-preconditions.guard';
import { artifactNotFound } from '../http/prefect-errors';
import { ReadAfter } from '../http/read-after';
import type { DecodedBody } from '../http/request-body';
import { UUID_SEGMENT, unroutedError } from '../http/routes';
import { QUERY_CONFIG, QueryConfig } from '../query.config';
import { ArtifactReadModel } from './artifact-read-model';
import { parseCountRequest, parseListRequest } from './artifact-requests';

const body = (request: FastifyRequest) => (request.body as DecodedBody | undefined) ?? { kind: 'absent' as const };

/**
 * Prefect's artifact read routes (E1-E6). Answers are JSON text built by the read model.
 * Each waits for an `X-Consistency-Token` (our extension) after Prefect's own request
 * checks, so a request Prefect refuses is refused the same way with or without one.
 */
@Controller('api/artifacts')
@UseGuards(ApiPreconditionsGuard)
export class ArtifactsController {
  constructor(
    private readonly readModel: ArtifactReadModel,
    private readonly readAfter: ReadAfter,
    @Inject(QUERY_CONFIG) private readonly config: QueryConfig,
  ) {}

  @Post('latest/filter')
  @HttpCode(200)
  @Header('content-type', 'application/json')
  async readLatest(@Req() request: FastifyRequest): Promise<string> {
    const parsed = parseListRequest('artifact_collection', body(request), this.config.defaultLimit);
    return this.readAfter.read(request.headers, () => this.readModel.list('artifact_collection', parsed));
  }

  @Post('latest/count')
  @HttpCode(200)
  @Header('content-type', 'application/json')
  async countLatest(@Req() request: FastifyRequest): Promise<string> {
    const parsed = parseCountRequest('artifact_collection', body(request));
    return this.readAfter.read(request.headers, () => this.readModel.count('artifact_collection', parsed));
  }

  @Post('filter')
  @HttpCode(200)
  @Header('content-type', 'application/json')
  async read(@Req() request: FastifyRequest): Promise<string> {
    const parsed = parseListRequest('artifact', body(request), this.config.defaultLimit);
    return this.readAfter.read(request.headers, () => this.readModel.list('artifact', parsed));
  }

  @Post('count')
  @HttpCode(200)
  @Header('content-type', 'application/json')
  async count(@Req() request: FastifyRequest): Promise<string> {
    const parsed = parseCountRequest('artifact', body(request));
    return this.readAfter.read(request.headers, () => this.readModel.count('artifact', parsed));
  }

  @Get(':key/latest')
  @Header('content-type', 'application/json')
  async readLatestByKey(@Req() request: FastifyRequest, @Param('key') key: string): Promise<string> {
    // Starlette matches {key} on the decoded path: an empty key or one holding "/" is no route.
    if (key === '' || key.includes('/')) throw unroutedError(request.method, request.url, request.headers.host);
    const artifact = await this.readAfter.read(request.headers, async () => (storable(key) ? this.readModel.latestByKey(key) : undefined));
    if (artifact === undefined) throw artifactNotFound();
    return artifact;
  }

  // Starlette's uuid convertor: only UUID-looking segments reach this route.
  @Get(`:id(^${UUID_SEGMENT}$)`)
  @Header('content-type', 'application/json')
  async readById(@Req() request: FastifyRequest, @Param('id') id: string): Promise<string> {
    const artifact = await this.readAfter.read(request.headers, () => this.readModel.byId(id.replaceAll('-', '').toLowerCase()));
    if (artifact === undefined) throw artifactNotFound();
    return artifact;
  }
}
