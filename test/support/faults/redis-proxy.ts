// A TCP proxy between one service process and Redis, so that a test can freeze that process in the middle of a job:
// armed with a needle (such as the id of the job the process is about to publish), it stops forwarding the connection
// on which the process sends that needle, before Redis sees the command. The process then waits for an answer that
// never comes, still holding its active job, until the test kills it.
import net from 'node:net';

export interface FrozenConnection {
  proxy: string;
  needle: string;
}

export interface RedisProxy {
  name: string;
  url: string;
  /** resolves when a connection sent `needle` and was frozen; only one needle is armed at a time */
  arm(needle: string): Promise<FrozenConnection>;
  disarm(): void;
  close(): Promise<void>;
}

export async function startRedisProxy(name: string, upstreamUrl: string): Promise<RedisProxy> {
  const upstream = new URL(upstreamUrl);
  const sockets = new Set<net.Socket>();
  let armed: { needle: string; resolve: (f: FrozenConnection) => void } | null = null;

  const server = net.createServer((client) => {
    const server = net.connect(Number(upstream.port || 6379), upstream.hostname);
    sockets.add(client);
    sockets.add(server);
    let frozen = false;
    let tail = '';
    client.on('data', (chunk: Buffer) => {
      if (frozen) return;
      const text = chunk.toString('latin1');
      const trigger = armed;
      if (trigger && (tail + text).includes(trigger.needle)) {
        frozen = true;
        armed = null;
        trigger.resolve({ proxy: name, needle: trigger.needle });
        return;
      }
      tail = text.slice(-256);
      server.write(chunk);
    });
    server.on('data', (chunk: Buffer) => {
      if (!frozen) client.write(chunk);
    });
    const end = () => {
      client.destroy();
      server.destroy();
      sockets.delete(client);
      sockets.delete(server);
    };
    client.on('close', end);
    server.on('close', end);
    client.on('error', end);
    server.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    name,
    url: `redis://127.0.0.1:${port}`,
    arm(needle) {
      return new Promise<FrozenConnection>((resolve) => {
        armed = { needle, resolve };
      });
    },
    disarm() {
      armed = null;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
