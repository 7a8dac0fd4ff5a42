import { poolName } from './query-database';

describe('poolName: how /api/ready and /metrics name a read pool', () => {
  it('names one server by host, port and database, without the credentials', () => {
    expect(poolName('postgres://u:secret@db.internal:6432/artifacts?sslmode=require')).toBe('db.internal:6432/artifacts');
    expect(poolName('postgresql://u:p@replica/artifacts')).toBe('replica:5432/artifacts');
  });

  it('names every host of a multi-host URL, in order', () => {
    expect(poolName('postgres://u:secret@h1:5432,h2:5433,[::1]:5434/artifacts?target_session_attrs=read-write')).toBe('h1:5432,h2:5433,[::1]:5434/artifacts');
    expect(poolName('postgres://u:secret@h1,h2/artifacts')).toBe('h1:5432,h2:5432/artifacts');
  });

  it('falls back to the variable name for what is not a URL', () => {
    expect(poolName('not a url')).toBe('DATABASE_URL');
  });
});
