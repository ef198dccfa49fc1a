// Store records to the JSON the routes answer with (instants as ISO strings).
import type { DeadLetter, Extraction, ExtractionState, Gap, StoredPlay, User } from '@playledger/store';
import { toIso } from '../schemas/common.ts';
import type { DeadLetterDto } from '../schemas/dead-letters.ts';
import type { ExtractionDto, GapDto } from '../schemas/extractions.ts';
import type { UserDto } from '../schemas/users.ts';

/** A refresh token ends six calendar months after the user authorized. */
export function refreshTokenEndsAt(authorizedAt: Date): Date {
  const end = new Date(authorizedAt.getTime());
  end.setUTCMonth(end.getUTCMonth() + 6);
  return end;
}

export function userDto(u: User): UserDto {
  return {
    userId: u.userId,
    spotifyId: u.spotifyId,
    accountId: u.accountId,
    displayName: u.displayName,
    status: u.status,
    statusReason: u.statusReason,
    authorizedAt: u.authorizedAt.toISOString(),
    refreshTokenEndsAt: refreshTokenEndsAt(u.authorizedAt).toISOString(),
    createdAt: u.createdAt.toISOString(),
    updatedAt: u.updatedAt.toISOString(),
  };
}

type Stage = ExtractionDto['stages']['extract'];

/** Where each stage stands, from the extraction's state. */
export function stagesOf(e: Pick<Extraction, 'state' | 'fetchedAt'>): ExtractionDto['stages'] {
  const s = (extract: Stage, validate: Stage, load: Stage) => ({ extract, validate, load });
  const state: ExtractionState = e.state;
  switch (state) {
    case 'pending':
      return s('running', 'pending', 'pending');
    case 'validating':
      return s('done', 'running', 'pending');
    case 'loading':
      return s('done', 'done', 'running');
    case 'done':
      return s('done', 'done', 'done');
    case 'no_new_plays':
      return s('done', 'skipped', 'skipped');
    case 'failed':
      return e.fetchedAt ? s('done', 'failed', 'failed') : s('failed', 'skipped', 'skipped');
  }
}

export function gapDto(g: Gap): GapDto {
  return {
    id: g.id,
    userId: g.userId,
    extractionId: g.extractionId,
    from: g.from.toISOString(),
    to: g.to.toISOString(),
    detectedAt: g.detectedAt.toISOString(),
  };
}

export function extractionDto(e: Extraction, gap?: Gap | null): ExtractionDto {
  const dto: ExtractionDto = {
    id: e.id,
    userId: e.userId,
    trigger: e.trigger,
    state: e.state,
    reason: e.reason,
    requestedAt: e.requestedAt.toISOString(),
    fetchedAt: toIso(e.fetchedAt),
    finishedAt: toIso(e.finishedAt),
    stages: stagesOf(e),
    counts: { fetched: e.fetched, new: e.newPlays, known: e.knownPlays, deadLettered: e.deadLettered },
    page: { full: e.pageFull, oldestPlayedAt: toIso(e.oldestPlayedAt), newestPlayedAt: toIso(e.newestPlayedAt) },
    gapId: e.gapId,
  };
  if (gap !== undefined) dto.gap = gap ? gapDto(gap) : null;
  return dto;
}

export function playDto(p: StoredPlay) {
  return {
    // the store hands back an ISO string (a Date from a driver is accepted too)
    playedAt: new Date(p.playedAt).toISOString(),
    track: p.track,
    context: p.context,
    extractionId: p.extractionId,
    loadedAt: p.loadedAt.toISOString(),
  };
}

export function deadLetterDto(d: DeadLetter): DeadLetterDto {
  return {
    id: d.id,
    extractionId: d.extractionId,
    userId: d.userId,
    stage: d.stage,
    rule: d.rule,
    field: d.field,
    message: d.message,
    record: d.record,
    correction: d.correction ?? null,
    status: d.status,
    firstSeenAt: d.firstSeenAt.toISOString(),
    lastSeenAt: d.lastSeenAt.toISOString(),
    timesSeen: d.timesSeen,
    replayedAt: toIso(d.replayedAt),
  };
}
