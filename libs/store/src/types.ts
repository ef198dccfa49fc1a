// What the services keep, and the one repository interface both adapters (SQL Server, PostgreSQL) implement.
// Only libs/store speaks SQL. Times are Date objects (UTC instants, millisecond precision) at this boundary.
import type { DeadLetterJob, DeadLetterStage, ExtractionTrigger, LoadJob, NormalizedPlay } from '@playledger/common';

export type UserStatus = 'active' | 'paused' | 'needs_reauth';

export interface User {
  /** the key: Spotify's account_id when /v1/me returned it, else its id */
  userId: string;
  spotifyId: string;
  accountId: string | null;
  displayName: string | null;
  status: UserStatus;
  /** why the status is what it is (for needs_reauth: what Spotify said); null when active */
  statusReason: string | null;
  /** when the user last authorized (logged in); the refresh token ends six months later */
  authorizedAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** A value encrypted by the auth service (AES-256-GCM); the store only keeps it. */
export interface EncryptedValue {
  keyId: string;
  /** base64 of iv | auth tag | ciphertext */
  ciphertext: string;
}

export interface Credentials {
  userId: string;
  refreshToken: EncryptedValue;
  scope: string;
  updatedAt: Date;
}

export interface UserLogin {
  userId: string;
  spotifyId: string;
  accountId: string | null;
  displayName: string | null;
  refreshToken: EncryptedValue;
  scope: string;
  authorizedAt: Date;
}

export type ExtractionState =
  | 'pending' // requested, not yet fetched
  | 'validating' // page fetched and published
  | 'loading' // validated, on the load queue
  | 'done'
  | 'no_new_plays'
  | 'failed';
export const FINAL_EXTRACTION_STATES: readonly ExtractionState[] = ['done', 'no_new_plays', 'failed'];

export interface Extraction {
  id: string;
  userId: string;
  trigger: ExtractionTrigger;
  state: ExtractionState;
  /** why it failed, in words */
  reason: string | null;
  requestedAt: Date;
  fetchedAt: Date | null;
  finishedAt: Date | null;
  /** items on the page; then what the loader found */
  fetched: number | null;
  newPlays: number | null;
  knownPlays: number | null;
  deadLettered: number | null;
  pageFull: boolean | null;
  oldestPlayedAt: Date | null;
  newestPlayedAt: Date | null;
  /** the gap this extraction revealed, if any */
  gapId: string | null;
}

export interface Gap {
  id: string;
  userId: string;
  extractionId: string;
  /** the newest play the product had before the page: plays after it and before `to` may be lost */
  from: Date;
  /** the oldest play on the page that revealed the gap */
  to: Date;
  detectedAt: Date;
}

export interface StoredPlay extends NormalizedPlay {
  userId: string;
  extractionId: string;
  loadedAt: Date;
}

export interface LoadResult {
  newPlays: number;
  knownPlays: number;
  gap: Gap | null;
  /** present when the extraction was already loaded before this call: a second delivery, which changed nothing */
  redelivery?: true;
}

export interface DeadLetter extends Omit<DeadLetterJob, 'rejectedAt'> {
  id: string;
  firstSeenAt: Date;
  lastSeenAt: Date;
  timesSeen: number;
  /** an operator's corrected record, kept beside the original */
  correction: unknown;
  status: 'open' | 'replayed' | 'resolved';
  replayedAt: Date | null;
}

export interface Page<T> {
  items: T[];
  /** pass back to get the next page; null at the end */
  nextCursor: string | null;
}

export interface DeadLetterFilter {
  stage?: DeadLetterStage;
  rule?: string;
  userId?: string;
  from?: Date;
  to?: Date;
  status?: DeadLetter['status'];
}

export interface PlayKey {
  trackUri: string;
  playedAt: Date;
}

export interface Store {
  readonly kind: 'postgres' | 'mssql';
  /** applies pending migrations under a database lock (replicas wait for each other); idempotent */
  migrate(): Promise<{ applied: string[] }>;
  /** throws when the database cannot be reached */
  ping(): Promise<void>;
  close(): Promise<void>;

  // users and credentials
  /** a login: creates the user or updates it; needs_reauth becomes active again, an operator's pause stays */
  saveLogin(login: UserLogin): Promise<User>;
  getUser(userId: string): Promise<User | null>;
  listUsers(filter?: { status?: UserStatus }): Promise<User[]>;
  setUserStatus(userId: string, status: UserStatus, reason: string | null): Promise<User | null>;
  getCredentials(userId: string): Promise<Credentials | null>;
  /** a rotated refresh token replaces the stored one */
  updateRefreshToken(userId: string, refreshToken: EncryptedValue): Promise<void>;
  /** users whose authorization happened before `authorizedBefore` (their refresh token ends soon), oldest first */
  listUsersAuthorizedBefore(authorizedBefore: Date): Promise<User[]>;
  /** removes the user and credentials; plays, extractions, gaps and dead letters too only when purgePlays */
  deleteUser(userId: string, options: { purgePlays: boolean }): Promise<boolean>;

  // extractions
  /** creates the record; starting an id that exists returns the existing record unchanged */
  startExtraction(e: {
    id: string;
    userId: string;
    trigger: ExtractionTrigger;
    requestedAt: Date;
  }): Promise<Extraction>;
  /** the page was fetched and published to validation */
  markExtractionFetched(
    id: string,
    page: { fetchedAt: Date; fetched: number; full: boolean; oldestPlayedAt: Date | null; newestPlayedAt: Date | null },
  ): Promise<void>;
  setExtractionState(id: string, state: 'validating' | 'loading'): Promise<void>;
  /** a final state other than done (done is set by loadBatch); re-evaluates the user's gaps */
  finishExtraction(id: string, state: 'no_new_plays' | 'failed', reason: string | null): Promise<void>;
  getExtraction(id: string): Promise<Extraction | null>;
  listExtractions(filter: {
    userId?: string;
    state?: ExtractionState;
    limit: number;
    cursor?: string;
  }): Promise<Page<Extraction>>;
  /** a not-yet-final extraction of the user, if any (manual requests reuse it) */
  findPendingExtraction(userId: string): Promise<Extraction | null>;
  /** extractions not final after `olderThan` are marked failed ('lost in transit'); returns how many */
  failStaleExtractions(olderThan: Date): Promise<number>;

  // plays
  /**
   * One transaction, set-based, idempotent: albums, artists, tracks, track artists in order, and plays (a play
   * within 2 s of a stored play of the same track is that play), then the extraction's counts (done) and its gap.
   * Delivering the same job again changes nothing and leaves the first counts in place.
   */
  loadBatch(job: LoadJob): Promise<LoadResult>;
  /** how many of these plays are not stored yet (2 s rule applied) */
  countUnknownPlays(userId: string, plays: PlayKey[]): Promise<number>;
  newestPlayedAt(userId: string): Promise<Date | null>;
  countPlays(userId: string): Promise<number>;
  listPlays(
    userId: string,
    range: { from?: Date; to?: Date; limit: number; cursor?: string },
  ): Promise<Page<StoredPlay>>;
  /** every play of the user in the range, oldest first, streamed in constant memory */
  streamPlays(userId: string, range: { from?: Date; to?: Date }): AsyncIterable<StoredPlay>;
  listGaps(filter: { userId?: string; limit: number; cursor?: string }): Promise<Page<Gap>>;

  // dead letters
  /** keeps a rejected record; the same record rejected again for the same stage and rule updates times seen */
  recordDeadLetter(job: DeadLetterJob): Promise<DeadLetter>;
  listDeadLetters(filter: DeadLetterFilter, page: { limit: number; cursor?: string }): Promise<Page<DeadLetter>>;
  getDeadLetter(id: string): Promise<DeadLetter | null>;
  correctDeadLetter(id: string, correction: unknown): Promise<DeadLetter | null>;
  markDeadLetterReplayed(id: string): Promise<void>;
  /** a replayed record that loaded */
  resolveDeadLetter(id: string): Promise<void>;
  deleteDeadLetter(id: string): Promise<boolean>;
}
