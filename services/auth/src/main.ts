// The auth process: reads config, creates its dependencies, serves, and shuts down on SIGTERM/SIGINT.
import { once } from 'node:events';
import { Queue } from 'bullmq';
import {
  createLogger,
  createMetrics,
  createRedis,
  createSecretBox,
  defaultJobOptions,
  installShutdown,
  listeningPort,
  QueueNames,
  registerSecret,
  runService,
} from '@playledger/common';
import { createStore } from '@playledger/store';
import { buildApp } from './app.ts';
import { systemClock } from './clock.ts';
import { loadAuthConfig, publicUrls } from './config.ts';
import { createAuthCore } from './core.ts';
import { registerHeadlessUser } from './headless.ts';
import { createSpotifyAccounts } from './spotify-adapter.ts';

async function main(): Promise<void> {
  const config = loadAuthConfig(process.env);
  for (const secret of [config.SPOTIFY_CLIENT_SECRET, config.AUTH_SERVICE_SECRET, config.SPOTIFY_REFRESH_TOKEN]) {
    registerSecret(secret);
  }
  for (const entry of config.TOKEN_ENCRYPTION_KEYS.split(',')) registerSecret(entry.split(':')[1]);
  const logger = createLogger({ name: 'auth', level: config.LOG_LEVEL });
  const box = createSecretBox(config.TOKEN_ENCRYPTION_KEYS);
  const redis = createRedis(config.REDIS_URL, 'producer', 'auth');
  const queueConnection = createRedis(config.REDIS_URL, 'producer', 'auth-queue');
  const extractions = new Queue(QueueNames.extractions, {
    connection: queueConnection,
    prefix: config.QUEUE_PREFIX,
    defaultJobOptions,
  });
  const store = await createStore({ kind: config.STORE_KIND, url: config.DATABASE_URL, logger });
  const metrics = createMetrics('auth');
  const spotify = createSpotifyAccounts(config, logger, metrics);

  // PORT=0 picks the port at listen time; until then the configured one stands in
  const known: { urls?: { redirectUri: string; publicBase: string } } = {};
  const deps = {
    logger,
    redis,
    store,
    spotify,
    box,
    extractions,
    metrics,
    clock: systemClock,
    queuePrefix: config.QUEUE_PREFIX,
    loginStateTtlMs: config.LOGIN_STATE_TTL_MS,
    loginMaxPerWindow: config.LOGIN_MAX_PER_WINDOW,
    extractionIntervalMs: config.EXTRACTION_INTERVAL_MS,
    spotifyTimeoutMs: config.SPOTIFY_TIMEOUT_MS,
  };
  const core = createAuthCore(deps);
  const app = buildApp({
    ...deps,
    core,
    accountsUrl: config.SPOTIFY_ACCOUNTS_URL,
    clientId: config.SPOTIFY_CLIENT_ID,
    serviceSecret: config.AUTH_SERVICE_SECRET,
    urls: () => known.urls ?? publicUrls(config, config.PORT),
  });

  installShutdown(
    logger,
    [
      { name: 'http', close: () => app.close() },
      { name: 'extractions queue', close: () => extractions.close() },
      { name: 'store', close: () => store.close() },
      { name: 'redis', close: () => redis.quit() },
      { name: 'queue redis', close: () => queueConnection.quit() },
    ],
    config.SHUTDOWN_TIMEOUT_MS,
  );

  // producer connections fail fast instead of queueing: serve only once Redis is there
  for (const connection of [redis, queueConnection]) if (connection.status !== 'ready') await once(connection, 'ready');
  await store.migrate();
  await app.listen({ port: config.PORT, host: config.HOST });
  const port = listeningPort(app);
  const urls = publicUrls(config, port);
  known.urls = urls;

  if (config.SPOTIFY_REFRESH_TOKEN) {
    await registerHeadlessUser(core.registration, {
      refreshToken: config.SPOTIFY_REFRESH_TOKEN,
      clock: systemClock,
      logger,
    });
  }
  logger.info({ port, redirectUri: urls.redirectUri, loginUrl: `${urls.publicBase}/login` }, 'ready');
}

runService('auth', main);
