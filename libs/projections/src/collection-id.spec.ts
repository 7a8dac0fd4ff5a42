import { COLLECTION_ID_NAMESPACE, collectionId, uuidV5 } from './collection-id';

describe('collection ids', () => {
  it('uuidV5 matches the RFC 4122 / Python uuid.uuid5 vector', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('is stable per key and differs between keys, the empty key included', () => {
    expect(collectionId('daily-report')).toBe(uuidV5('daily-report', COLLECTION_ID_NAMESPACE));
    expect(collectionId('daily-report')).toBe(uuidV5('daily-report', COLLECTION_ID_NAMESPACE));
    expect(new Set([collectionId(''), collectionId('a'), collectionId('b')]).size).toBe(3);
    expect(collectionId('a')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
