import { createHash } from 'node:crypto';

/**
 * Namespace of collection ids. Never change it: ids must survive a rebuild from
 * the topics (docs/events.md, "Collection identity").
 */
export const COLLECTION_ID_NAMESPACE = '8d4f1f2c-61a5-4b8e-9a3c-2f6b9e0d7c15';

/** RFC 4122 UUID v5 of `name` in `namespace` (SHA-1). */
export function uuidV5(name: string, namespace: string | Buffer): string {
  const ns = typeof namespace === 'string' ? Buffer.from(namespace.replace(/-/g, ''), 'hex') : namespace;
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The `artifact_collection.id` of a key. Unlike Prefect (a random id per row), re-creating a key gives the same id. */
const NAMESPACE_BYTES = Buffer.from(COLLECTION_ID_NAMESPACE.replace(/-/g, ''), 'hex');

// A SHA-1 per written key is a few µs of CPU; keys recur across batches. Emptied when full.
const CACHE_SIZE = 50_000;
const cache = new Map<string, string>();

export function collectionId(key: string): string {
  let id = cache.get(key);
  if (id === undefined) {
    if (cache.size >= CACHE_SIZE) cache.clear();
    id = uuidV5(key, NAMESPACE_BYTES);
    cache.set(key, id);
  }
  return id;
}
