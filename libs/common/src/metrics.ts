// The Prometheus metrics of the pipeline, defined once. Each process creates its own registry; a service
// increments only what it does, and sums over replicas are taken by Prometheus.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics(service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const r = { registers: [registry] };
  return {
    registry,
    /** jobs finished by queue and outcome (completed, failed, rate-limited) */
    jobs: new Counter({ name: 'playledger_jobs_total', help: 'jobs processed', labelNames: ['queue', 'outcome'], ...r }),
    jobDuration: new Histogram({
      name: 'playledger_job_duration_seconds',
      help: 'time to process a job',
      labelNames: ['queue'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      ...r,
    }),
    /** jobs waiting, active, delayed, failed... per queue, sampled when scraped */
    queueJobs: new Gauge({ name: 'playledger_queue_jobs', help: 'jobs per queue and state', labelNames: ['queue', 'state'], ...r }),
    playsExtracted: new Counter({
      name: 'playledger_plays_extracted_total',
      help: 'items on the pages the extractor published (a page with nothing new is not counted)',
      ...r,
    }),
    playsNew: new Counter({ name: 'playledger_plays_new_total', help: 'plays stored for the first time', ...r }),
    playsKnown: new Counter({ name: 'playledger_plays_known_total', help: 'plays already stored', ...r }),
    playsDeadLettered: new Counter({
      name: 'playledger_plays_dead_lettered_total',
      help: 'records dead-lettered, by stage and rule',
      labelNames: ['stage', 'rule'],
      ...r,
    }),
    spotifyCalls: new Counter({
      name: 'playledger_spotify_calls_total',
      help: 'calls to Spotify by endpoint and outcome (status code; 429 for a rate limit, 429-quota-exceeded apart; timeout; network-error)',
      labelNames: ['endpoint', 'outcome'],
      ...r,
    }),
    tokenRefreshes: new Counter({ name: 'playledger_token_refreshes_total', help: 'refresh-token grants', labelNames: ['outcome'], ...r }),
    gaps: new Counter({ name: 'playledger_gaps_total', help: 'gaps detected in a listening history', ...r }),
    usersNeedingReauth: new Gauge({ name: 'playledger_users_needs_reauth', help: 'users who must log in again', ...r }),
    usersExpiringSoon: new Gauge({
      name: 'playledger_users_refresh_token_expiring',
      help: 'users whose refresh token ends within 14 days',
      ...r,
    }),
    secondsSinceExtraction: new Gauge({
      name: 'playledger_seconds_since_last_successful_extraction',
      help: 'per user, seconds since the last extraction that ended done or no_new_plays',
      labelNames: ['user'],
      ...r,
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
