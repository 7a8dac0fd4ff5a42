import { ParityRequest } from './generator';
import { Outcome, ParityResult } from './harness';

const cell = (text: string, max = 240) => {
  const short = text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text;
  return '`' + short.replace(/\|/g, '\\|').replace(/`/g, "'").replace(/\n/g, '\\n') + '`';
};

export function describeRequest(r: ParityRequest): string {
  const headers = Object.entries(r.headers)
    .filter(([k, v]) => !(k === 'content-type' && v === 'application/json'))
    .map(([k, v]) => ` [${k}: ${v}]`)
    .join('');
  const noType = r.body !== undefined && !('content-type' in r.headers) ? ' [no content-type]' : '';
  return `${r.method} ${r.path}${headers}${noType}${r.body === undefined ? '' : ` ${r.body}`}`;
}

const answer = (a: Outcome['prefect']) => `${a.status} ${a.body}`;

/** Where two long bodies first differ: a few characters of each around that place. */
export function firstDifference(o: Outcome): string {
  const a = o.prefect.body;
  const b = o.ours.body;
  if (o.prefect.status !== o.ours.status || (a.length < 200 && b.length < 200)) return '';
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  const from = Math.max(0, i - 40);
  return `at ${i}: Prefect …${a.slice(from, i + 40)}… ours …${b.slice(from, i + 40)}…`;
}

/** The disagreement table (markdown): class, count, minimal request, Prefect's answer, ours. */
export function markdownReport(results: ParityResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    const disagreements = r.classes.reduce((n, c) => n + c.count, 0);
    const deviated = r.deviations.reduce((n, d) => n + d.count, 0);
    lines.push(
      `## seed ${r.seed}: ${r.requests} requests, ${r.agreed} agreed, ${disagreements} disagreements in ${r.classes.length} classes, ${deviated} deliberate deviations`,
      '',
      `History: ${r.history.versions} versions created (${r.history.liveVersions} live) over ${r.history.keys} keys, ${r.history.events} events. ` +
        `Collection ids: ${r.collectionIdsDiffer ? "ours (UUID v5 of the key) differ from Prefect's random ones, so Prefect's are mapped to ours by key before comparing" : 'identical'}.`,
      '',
      '| class | count | minimal request | Prefect | ours | first difference |',
      '| --- | --- | --- | --- | --- | --- |',
      ...r.classes.map(
        (c) =>
          `| ${c.name.replace(/\|/g, '\\|')} | ${c.count} | ${cell(describeRequest(c.example.request))} | ${cell(answer(c.example.prefect))} | ${cell(answer(c.example.ours))} | ${firstDifference(c.example) ? cell(firstDifference(c.example), 400) : ''} |`,
      ),
      '',
      'Deliberate deviations (Prefect 5xx, ours better; test/parity/deviations.ts):',
      '',
      '| deviation | count | ours as documented? | example | Prefect | ours |',
      '| --- | --- | --- | --- | --- | --- |',
      ...r.deviations.map(
        (d) =>
          `| ${d.id} | ${d.count} | ${d.broken.length === 0 ? 'yes' : `NO (${d.broken.length}): ${d.broken[0]!.problems.join('; ')}`} | ${d.example ? cell(describeRequest(d.example.request)) : '-'} | ${d.example ? cell(answer(d.example.prefect), 80) : '-'} | ${d.example ? cell(answer(d.example.ours), 120) : '-'} |`,
      ),
      '',
    );
  }
  return lines.join('\n');
}

/** Failures: classes outside the deviations, and deviations where ours is not what is written down. */
export function failures(result: ParityResult): string[] {
  return [
    ...result.classes.map(
      (c) =>
        `${c.count} × ${c.name}\n    e.g. ${describeRequest(c.example.request).slice(0, 400)}\n    Prefect: ${answer(c.example.prefect).slice(0, 300)}\n    ours:    ${answer(c.example.ours).slice(0, 300)}` +
        (firstDifference(c.example) ? `\n    ${firstDifference(c.example)}` : ''),
    ),
    ...result.deviations.flatMap((d) => d.broken.slice(0, 1).map((b) => `deviation ${d.id} (${d.broken.length}×): ${b.problems.join('; ')}\n    e.g. ${describeRequest(b.outcome.request).slice(0, 400)}`)),
  ];
}
