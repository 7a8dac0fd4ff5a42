import { normaliseTimestamp, normaliseUuid, truncateMetadataValue } from './scalars';

describe('normaliseUuid accepts the forms Prefect accepts and returns lowercase hyphenated', () => {
  const canonical = '6f9619ff-8b86-d011-b42d-00c04fc964ff';
  it.each([canonical, canonical.toUpperCase(), '6F9619FF8B86D011B42D00C04FC964FF', `{${canonical}}`, `urn:uuid:${canonical}`, `URN:UUID:${canonical.toUpperCase()}`])('%s', (input) => {
    expect(normaliseUuid(input)).toBe(canonical);
  });

  it.each(['', 'not-a-uuid', '6f9619ff8b86d011b42d00c04fc964f', '6f9619ff8b86d011b42d00c04fc964fff', '6f9619ff-8b86d011-b42d-00c04fc964ff', '{6f9619ff8b86d011b42d00c04fc964ff}', 'urn:uuid:6f9619ff8b86d011b42d00c04fc964ff', ` ${canonical}`, 'g'.repeat(32)])(
    'refuses %j',
    (input) => {
      expect(normaliseUuid(input)).toBeNull();
    },
  );
});

describe('normaliseTimestamp: RFC 3339 with an offset → UTC instant with microseconds', () => {
  it.each([
    ['2024-06-01T10:00:01Z', '2024-06-01T10:00:01.000000Z'],
    ['2024-06-01T10:00:01.123456Z', '2024-06-01T10:00:01.123456Z'],
    ['2024-06-01t10:00:01.1z', '2024-06-01T10:00:01.100000Z'],
    ['2024-06-01 10:00:01.123Z', '2024-06-01T10:00:01.123000Z'],
    ['2024-06-01T10:00:01.123456789Z', '2024-06-01T10:00:01.123456Z'],
    ['2024-06-01T12:00:01.123456+02:00', '2024-06-01T10:00:01.123456Z'],
    ['2024-06-01T02:00:01-08:00', '2024-06-01T10:00:01.000000Z'],
    ['2024-06-01T02:00:01-0800', '2024-06-01T10:00:01.000000Z'],
    ['2024-06-01T10:00:01+00:00', '2024-06-01T10:00:01.000000Z'],
    ['2024-01-01T00:30:00+01:00', '2023-12-31T23:30:00.000000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000000Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000000Z'],
    ['9999-12-31T23:59:59.999999Z', '9999-12-31T23:59:59.999999Z'],
  ])('%s → %s', (input, expected) => {
    expect(normaliseTimestamp(input)).toBe(expected);
  });

  it.each([
    '2024-06-01T10:00:01',
    '2024-06-01',
    '2024-06-01T10:00Z',
    '2024-13-01T00:00:00Z',
    '2023-02-29T00:00:00Z',
    '2024-04-31T00:00:00Z',
    '2024-06-01T24:00:00Z',
    '2024-06-01T10:60:00Z',
    '2024-06-01T10:00:60Z',
    '2024-06-01T10:00:00.Z',
    '2024-06-01T10:00:00+24:00',
    '2024-06-01T10:00:00+01',
    '2024-06-01T10:00:00ZZ',
    '0000-01-01T00:00:00Z',
    '0001-01-01T00:30:00+01:00',
    '9999-12-31T23:30:00-01:00',
    '+2024-06-01T10:00:00Z',
    'notadate',
    '1717236001',
  ])('refuses %j', (input) => {
    expect(normaliseTimestamp(input)).toBeNull();
  });
});

describe('truncateMetadataValue cuts at 500 code points, like Prefect', () => {
  it('keeps 500 characters, cuts 501 to 500 plus "..."', () => {
    expect(truncateMetadataValue('a'.repeat(500))).toBe('a'.repeat(500));
    expect(truncateMetadataValue('a'.repeat(501))).toBe(`${'a'.repeat(500)}...`);
  });

  it('counts code points, not UTF-16 units', () => {
    expect(truncateMetadataValue('😀'.repeat(400))).toBe('😀'.repeat(400));
    expect(truncateMetadataValue('😀'.repeat(501))).toBe(`${'😀'.repeat(500)}...`);
    expect(truncateMetadataValue('x' + '😀'.repeat(500))).toBe(`x${'😀'.repeat(499)}...`);
  });
});
