// Imported first by main.ts, before the modules that take a while to load (Nest,
// kafkajs, TypeORM, pg: a second or more on a busy machine). Without a listener in
// that window, Node's default action killed the process on SIGTERM or SIGINT; with
// one, the signal is handled once main() has run, which stops the app when it is up.

let received: NodeJS.Signals | undefined;
let listener: ((signal: NodeJS.Signals) => void) | undefined;

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    received ??= signal;
    listener?.(signal);
  });
}

/** Calls `fn` on a stop signal; at once if one came before. */
export function onStopSignal(fn: (signal: NodeJS.Signals) => void): void {
  listener = fn;
  if (received) fn(received);
}
