import { createServer, type Server } from 'node:http';

/**
 * An external LRS on a real port, as the forwarding outbox sees one: `down` refuses connections
 * (nothing listens), `unavailable` answers 503 with Retry-After, `up` takes statement batches.
 * Like a real LRS it stores a statement once by id; `deliveries` counts, per id, the accepted
 * requests that carried it (more than one: a duplicate).
 */
export class FakeLrs {
  readonly deliveries = new Map<string, number>();
  /** requests answered 503 */
  refused = 0;
  private server: Server | undefined;
  private mode: 'down' | 'unavailable' | 'up' = 'down';

  constructor(readonly port: number) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}/xapi/`;
  }

  async set(mode: 'down' | 'unavailable' | 'up'): Promise<void> {
    this.mode = mode;
    if (mode === 'down' && this.server) {
      const s = this.server;
      this.server = undefined;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    }
    if (mode !== 'down' && !this.server) {
      const s = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          if (this.mode !== 'up') {
            this.refused++;
            return void res.writeHead(503, { 'Retry-After': '5', 'Content-Type': 'application/json' }).end('{"error":"down for maintenance"}');
          }
          if (req.method !== 'POST' || req.url !== '/xapi/statements') return void res.writeHead(400).end(`unexpected ${req.method} ${req.url}`);
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string } | { id: string }[];
          const batch = Array.isArray(body) ? body : [body];
          for (const s of batch) this.deliveries.set(s.id, (this.deliveries.get(s.id) ?? 0) + 1);
          res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(batch.map((s) => s.id)));
        });
      });
      await new Promise<void>((resolve) => s.listen(this.port, '127.0.0.1', resolve));
      this.server = s;
    }
  }

  close(): Promise<void> {
    return this.set('down');
  }
}
