import * as pg from 'pg';
import { multiHostUrls, pgConnectionString, wantsReadWrite } from './connection-url';

// node-postgres connects to one host. With libpq's multi-host DATABASE_URL, each new
// connection goes to the host that answered last; one that refuses, or is a standby
// while target_session_attrs=read-write asks for the primary, moves every later
// connection to the next host. A promoted standby is found by the retries that follow
// the old primary's loss, without repointing anything by hand.

type ConnectCallback = (error: Error | null) => void;

/** A pg Client class, and the single-host URL to start from, for a multi-host URL; undefined for one host. */
export function failoverClient(url: string): { Client: typeof pg.Client; url: string } | undefined {
  const hosts = multiHostUrls(url);
  if (!hosts) return undefined;
  const readWrite = wantsReadWrite(url);
  let current = 0;
  class FailoverClient extends pg.Client {
    private readonly target: number;

    constructor(config?: pg.ClientConfig) {
      const target = current;
      super({ ...config, connectionString: pgConnectionString(hosts![target]!.url) });
      this.target = target;
    }

    // pg-pool passes a callback, other callers await: answer both ways, as pg does
    override connect(): Promise<pg.Client>;
    override connect(callback: ConnectCallback): void;
    override connect(callback?: ConnectCallback): Promise<pg.Client> | void {
      const connected = super.connect().then(async () => {
        if (!readWrite) return this;
        const { rows } = await this.query<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby');
        if (rows[0]?.standby) {
          await this.end().catch(() => undefined);
          // 08001 (unable to establish a connection): callers take it for a server that is away, as libpq does
          throw Object.assign(new Error(`${hosts![this.target]!.host}:${hosts![this.target]!.port} is a standby (target_session_attrs=read-write)`), { code: '08001' });
        }
        return this;
      });
      const moved = connected.catch((error: Error) => {
        if (current === this.target) current = (this.target + 1) % hosts!.length;
        throw error;
      });
      if (!callback) return moved;
      moved.then(() => callback(null), callback);
    }
  }
  return { Client: FailoverClient, url: hosts[0]!.url };
}

/** The pg module for TypeORM's `driver` option, its pools made of failover clients. */
export function failoverDriver(Client: typeof pg.Client): typeof pg {
  class FailoverPool extends pg.Pool {
    constructor(config?: pg.PoolConfig) {
      super({ ...config, Client });
    }
  }
  return { ...pg, Pool: FailoverPool, Client };
}
