import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureKafkaJars, resolveKafkaVersion, startKafka, stopKafka } from './kafka';

// Class-data sharing (docs/kafka-local.md): the first broker stopped by SIGTERM leaves an
// archive in the jar cache, and the next broker starts from it. The cache here is a folder of
// the spec's own, its jars linked from the real one (nothing is fetched again).
describe('Kafka brokers share their classes from an archive', () => {
  const version = resolveKafkaVersion();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-cds-'));
  const cache = path.join(home, 'kafka-local', version);
  const saved = process.env.XDG_CACHE_HOME;

  beforeAll(async () => {
    const libs = await ensureKafkaJars(version);
    fs.mkdirSync(cache, { recursive: true });
    fs.symlinkSync(libs, path.join(cache, 'libs'));
    fs.copyFileSync(path.join(path.dirname(libs), '.complete'), path.join(cache, '.complete'));
    process.env.XDG_CACHE_HOME = home;
  });

  afterAll(() => {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
    fs.rmSync(home, { recursive: true, force: true });
  });

  const commandLine = (pid: number): string => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  const archives = (): string[] => (fs.existsSync(path.join(cache, 'cds')) ? fs.readdirSync(path.join(cache, 'cds')) : []);

  test('the first broker writes the archive as it stops; the next one starts from it', async () => {
    const first = await startKafka({ dataDir: path.join(home, 'first'), version });
    expect(commandLine(first.pid)).toMatch(/-XX:ArchiveClassesAtExit=\S+\.tmp /);
    await stopKafka(path.join(home, 'first'));
    const written = archives();
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^broker-[0-9a-f]{16}\.jsa$/);

    const second = await startKafka({ dataDir: path.join(home, 'second'), version });
    try {
      expect(commandLine(second.pid)).toContain(`-XX:SharedArchiveFile=${path.join(cache, 'cds', written[0]!)} `);
      // The JVM says so when it cannot use an archive (another JVM, another classpath).
      expect(fs.readFileSync(second.logFile, 'utf8')).not.toMatch(/\[cds\]|shared archive file/i);
    } finally {
      await stopKafka(path.join(home, 'second'));
    }
    expect(archives()).toEqual(written);
  }, 120_000);
});
