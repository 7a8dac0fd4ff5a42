// Python's uuid.UUID as Pydantic 2.14 (pydantic-core 2.50.5, which a fresh
// `pip install prefect==3.6.24` brings; probed through Prefect's filter models)
// validates a string: simple, hyphenated, {braced} and urn:uuid: forms; on
// failure the crate's diagnostic text, which Prefect puts in the 422 body.

const HEX = /^[0-9a-fA-F]+$/;

/** The canonical lowercase hyphenated form, or the crate's error text. */
export function parseUuid(s: string): { uuid: string } | { error: string } {
  const hyphenated = (b: string) =>
    b[8] === '-' && b[13] === '-' && b[18] === '-' && b[23] === '-' ? b.replaceAll('-', '') : undefined;
  const bytes = Buffer.byteLength(s);
  let hex: string | undefined;
  let failed = s;
  if (bytes === 32 && s.length === 32) hex = s;
  else if (bytes === 36 && s.length === 36) hex = hyphenated(s);
  else if (bytes === 38 && s.length === 38 && s.startsWith('{') && s.endsWith('}')) {
    failed = s.slice(1, 37);
    hex = hyphenated(failed);
  } else if (bytes === 45 && s.length === 45 && s.startsWith('urn:uuid:')) {
    failed = s.slice(9);
    hex = hyphenated(failed);
  }
  if (hex !== undefined && hex.length === 32 && HEX.test(hex)) {
    const h = hex.toLowerCase();
    return { uuid: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}` };
  }
  return { error: uuidError(failed) };
}

/** The uuid crate's InvalidUuid::into_err as pydantic-core 2.50.5 reports it: positions are 0-based byte offsets, lengths in bytes. */
function uuidError(failed: string): string {
  let inner = failed;
  let offset = 0;
  let simple = true;
  if (failed.length >= 2 && failed.startsWith('{') && failed.endsWith('}')) {
    inner = failed.slice(1, -1);
    offset = 1;
    simple = false;
  } else if (failed.startsWith('urn:uuid:')) {
    inner = failed.slice(9);
    offset = 9;
    simple = false;
  }
  let hyphens = 0;
  const bounds = [0, 0, 0, 0];
  let byteIndex = 0;
  for (const ch of inner) {
    if (ch === '-') {
      if (hyphens < 4) bounds[hyphens] = byteIndex;
      hyphens++;
    } else if (!/^[0-9a-fA-F]$/.test(ch)) {
      return `invalid character: found \`${ch}\` at ${byteIndex + offset}`;
    }
    byteIndex += Buffer.byteLength(ch);
  }
  if (hyphens === 0 && simple) {
    return `invalid length: found ${Buffer.byteLength(failed)}`;
  }
  if (hyphens !== 4) return `invalid group count: expected 5, found ${hyphens + 1}`;
  const starts = [0, 9, 14, 19, 24];
  const expected = [8, 4, 4, 4, 12];
  for (let i = 0; i < 4; i++) {
    if (bounds[i] !== (starts[i + 1] as number) - 1) {
      return `invalid group length in group ${i}: expected ${expected[i]}, found ${(bounds[i] as number) - (starts[i] as number)}`;
    }
  }
  return `invalid group length in group 4: expected 12, found ${Buffer.byteLength(failed) - 24}`;
}
