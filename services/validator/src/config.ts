// The validator's configuration: Redis, the queue prefix, its HTTP port (ops routes) and logging.
import Type, { type Static } from 'typebox';
import { ConfigVars } from '@playledger/common';

export const ValidatorConfig = Type.Object({
  LOG_LEVEL: ConfigVars.LOG_LEVEL,
  REDIS_URL: ConfigVars.REDIS_URL,
  QUEUE_PREFIX: ConfigVars.QUEUE_PREFIX,
  PORT: ConfigVars.port(8083),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0', description: 'the address to listen on, such as 0.0.0.0' }),
  SHUTDOWN_TIMEOUT_MS: ConfigVars.SHUTDOWN_TIMEOUT_MS,
  VALIDATOR_CONCURRENCY: Type.Integer({
    minimum: 1,
    maximum: 64,
    default: 4,
    description: 'pages validated at once by this process (1-64)',
  }),
});
export type ValidatorConfig = Static<typeof ValidatorConfig>;
