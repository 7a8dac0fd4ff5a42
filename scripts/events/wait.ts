import { CliEnv, CliError } from './cli';

// `publish --wait`: asks the query app a cheap question (`POST /api/artifacts/count`)
// with the consistency token until it answers; the query app itself waits up to
// QUERY_READ_AFTER_TIMEOUT_MS per request and answers 504 with the lag, so a 504 (or
// an unreachable app, e.g. still starting) is asked again until `timeoutMs` is spent.

const RETRY_PAUSE_MS = 250;

export async function waitForToken(token: string, env: CliEnv, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const url = `${env.queryUrl}/api/artifacts/count`;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-consistency-token': token };
  if (env.apiAuthToken) headers.authorization = `Bearer ${env.apiAuthToken}`;
  let last = 'no answer yet';
  let lagKnown = false;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new CliError(`the read model has not applied the published events within ${timeoutMs / 1000} s: ${last}`);
    try {
      const response = await fetch(url, { method: 'POST', headers, body: '{}', signal: AbortSignal.timeout(left) });
      const text = await response.text();
      if (response.ok) return;
      const detail = detailOf(text);
      if (response.status !== 504) throw new CliError(`the query app at ${env.queryUrl} refused the wait: HTTP ${response.status} ${detail}`);
      last = detail;
      lagKnown = true;
    } catch (error) {
      if (error instanceof CliError) throw error;
      // Cut short by our own deadline: the lag the last answer gave says more than the abort.
      if ((error as Error).name === 'TimeoutError' && lagKnown) continue;
      last = `query app at ${env.queryUrl} unreachable: ${(error as Error).message}`;
      lagKnown = false;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(RETRY_PAUSE_MS, Math.max(0, deadline - Date.now()))));
  }
}

function detailOf(text: string): string {
  try {
    const body = JSON.parse(text) as { detail?: unknown; exception_message?: unknown };
    if (typeof body.detail === 'string') return body.detail;
    if (typeof body.exception_message === 'string') return body.exception_message;
  } catch {
    // not JSON: show it as it is
  }
  return text.slice(0, 300);
}
