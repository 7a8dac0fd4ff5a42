export { nestLogger } from './nest-logger';
