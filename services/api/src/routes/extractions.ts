import type { FastifyInstance } from 'fastify';
import type { Extraction, Gap, Store } from '@playledger/store';
import { extractionDto } from '../lib/dto.ts';
import type { ApiDeps } from '../lib/deps.ts';
import { requestExtraction } from '../lib/manual-extractions.ts';
import { notFound, conflict } from '../lib/http-errors.ts';
import type { TypeBoxProvider } from '../lib/type-provider.ts';
import { DEFAULT_PAGE_SIZE, errors, IdParams, MAX_PAGE_SIZE } from '../schemas/common.ts';
import {
  ExtractionPage,
  ExtractionSchema,
  ListExtractionsQuery,
  StartExtractionsBody,
  StartExtractionsReply,
} from '../schemas/extractions.ts';

/** The gap an extraction revealed (the store has no lookup by id: a user's gaps are few, so scan a bounded number). */
export async function gapOf(store: Store, e: Extraction): Promise<Gap | null> {
  if (!e.gapId) return null;
  let cursor: string | undefined;
  for (let i = 0; i < 20; i++) {
    const page = await store.listGaps({ userId: e.userId, limit: MAX_PAGE_SIZE, cursor });
    const found = page.items.find((g) => g.id === e.gapId);
    if (found) return found;
    if (!page.nextCursor) return null;
    cursor = page.nextCursor;
  }
  return null;
}

export function extractionRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const r = app.withTypeProvider<TypeBoxProvider>();
  const { store } = deps;
  const manual = { store, extractions: deps.queues.extractions, redis: deps.redis, keyPrefix: deps.config.QUEUE_PREFIX, logger: deps.logger };

  r.post(
    '/extractions',
    {
      schema: {
        tags: ['extractions'],
        summary: 'start a manual extraction for one user or all active users',
        description: 'A user whose extraction is still pending gets that extraction back; no second run starts.',
        body: StartExtractionsBody,
        response: { 202: StartExtractionsReply, ...errors(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const userId = request.body?.userId;
      let userIds: string[];
      if (userId !== undefined) {
        const user = await store.getUser(userId);
        if (!user) throw notFound(`no user ${userId}`);
        if (user.status !== 'active') throw conflict(`user ${userId} is ${user.status}: resume or re-authorize first`);
        userIds = [userId];
      } else {
        userIds = (await store.listUsers({ status: 'active' })).map((u) => u.userId);
      }
      const extractions = [];
      for (const id of userIds) {
        const { extraction, created } = await requestExtraction(manual, id);
        extractions.push({ userId: id, extractionId: extraction.id, created, extraction: extractionDto(extraction) });
      }
      return reply.code(202).send({ extractions });
    },
  );

  r.get(
    '/extractions/:id',
    {
      schema: {
        tags: ['extractions'],
        summary: 'one extraction: state per stage, counts and gap',
        params: IdParams,
        response: { 200: ExtractionSchema, ...errors(400, 404) },
      },
    },
    async (request) => {
      const extraction = await store.getExtraction(request.params.id);
      if (!extraction) throw notFound(`no extraction ${request.params.id}`);
      return extractionDto(extraction, await gapOf(store, extraction));
    },
  );

  r.get(
    '/extractions',
    {
      schema: {
        tags: ['extractions'],
        summary: 'recent extractions, newest first, by user and state',
        querystring: ListExtractionsQuery,
        response: { 200: ExtractionPage, ...errors(400) },
      },
    },
    async (request) => {
      const { userId, state, limit = DEFAULT_PAGE_SIZE, cursor } = request.query;
      const page = await store.listExtractions({ userId, state, limit, cursor });
      return { items: page.items.map((e) => extractionDto(e)), nextCursor: page.nextCursor };
    },
  );
}
