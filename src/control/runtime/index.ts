export { InterfaceRuntime, handshakeConfig } from './interface-runtime';
export type { DataPathHooks } from './interface-runtime';
export { SharedMemory } from './memory';
export type { RingHandle } from './memory';
export { ControlConnection } from './connection';
