// PostgreSQL COPY ... FROM STDIN through pg's own client, without pg-copy-streams: a Query whose CopyInResponse
// handler sends the prepared text in CopyData chunks and then CopyDone (the simple query protocol, no parameters).
import pg from 'pg';

interface CopyConnection {
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

const CHUNK = 64 * 1024;

class CopyFromText extends pg.Query {
  private readonly payload: Buffer;
  constructor(sql: string, payload: Buffer) {
    super(sql);
    this.payload = payload;
  }
  handleCopyInResponse(connection: CopyConnection): void {
    for (let at = 0; at < this.payload.length; at += CHUNK) {
      connection.sendCopyFromChunk(this.payload.subarray(at, at + CHUNK));
    }
    connection.endCopyFrom();
  }
}

/** Runs `COPY <table> (<columns>) FROM STDIN` with `text` (COPY's text format) on the client; resolves when done. */
export async function copyFromText(client: pg.Client, sql: string, text: string): Promise<void> {
  const query = new CopyFromText(sql, Buffer.from(text, 'utf8'));
  await new Promise<void>((resolve, reject) => {
    query.on('end', () => resolve());
    query.on('error', reject);
    void client.query(query);
  });
}

/** One value in COPY's text format: \N for null, backslash, tab, newline and carriage return escaped. */
export function copyValue(value: string | number | boolean | null): string {
  if (value === null) return '\\N';
  return String(value).replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}
