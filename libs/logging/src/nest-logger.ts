import type { LoggerService } from '@nestjs/common';
import type { Logger } from 'pino';

/** Nest's own messages through the app's pino logger; its start-up chatter (route mapping) at debug. */
export function nestLogger(logger: Logger): LoggerService {
  const text = (message: unknown, context: unknown[]) => `${context.length ? `[${String(context[context.length - 1])}] ` : ''}${String(message)}`;
  return {
    log: (message, ...context) => logger.debug(text(message, context)),
    error: (message, ...context) => logger.error(text(message, context)),
    warn: (message, ...context) => logger.warn(text(message, context)),
    debug: (message, ...context) => logger.debug(text(message, context)),
    verbose: (message, ...context) => logger.trace(text(message, context)),
  };
}
