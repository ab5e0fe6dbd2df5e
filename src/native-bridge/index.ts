export { loadNative } from './load';
export { MemifError, isMemifError } from './errors';
export type * from './native';
