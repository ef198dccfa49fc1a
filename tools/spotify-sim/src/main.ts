// `npm run sim`: starts the simulator alone and prints its address. Env: SIM_PORT, SIM_HOST, SIM_SEED, SIM_USERS,
// SIM_CONTROL_TOKEN, SIM_CLIENT_ID, SIM_CLIENT_SECRET, SIM_REDIRECT_URIS, SIM_CLOCK_RUNNING, SIM_START_DAYS_AGO.
import { DEFAULT_APP, DEFAULT_START_DAYS_AGO, startSimulator, type SimulatorOptions } from './index.ts';

function intVar(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return n;
}

const env = process.env;
const options: SimulatorOptions = {
  port: intVar('SIM_PORT', 8090),
  host: env.SIM_HOST ?? '127.0.0.1',
  seed: env.SIM_SEED ?? '1',
  users: intVar('SIM_USERS', 3),
  clockRunning: env.SIM_CLOCK_RUNNING === 'true',
  clockStartMs: Date.now() - intVar('SIM_START_DAYS_AGO', DEFAULT_START_DAYS_AGO) * 24 * 60 * 60_000,
  apps: [
    {
      clientId: env.SIM_CLIENT_ID ?? DEFAULT_APP.clientId,
      clientSecret: env.SIM_CLIENT_SECRET ?? DEFAULT_APP.clientSecret,
      redirectUris: env.SIM_REDIRECT_URIS
        ? env.SIM_REDIRECT_URIS.split(',').map((u) => u.trim())
        : DEFAULT_APP.redirectUris,
      devMode: env.SIM_DEV_MODE === 'true',
    },
  ],
};
if (env.SIM_CONTROL_TOKEN) options.controlToken = env.SIM_CONTROL_TOKEN;

const sim = await startSimulator(options);
console.log(JSON.stringify({ level: 30, msg: 'ready', port: sim.port, url: sim.url }));
console.log(
  `spotify-sim listening on ${sim.url} (seed ${String(options.seed)}, users ${[...sim.state.users.keys()].join(', ')})`,
);

const stop = (): void => {
  sim.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
