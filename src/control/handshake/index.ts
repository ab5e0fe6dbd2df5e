export * from './types';
export * from './config';
export { clientStep, initialClientState } from './client';
export type { ClientState } from './client';
export { serverStep, initialServerState } from './server';
export type { ServerState } from './server';
export { helloMessage, routeFirstMessage } from './accept';
export type { Route, RouteTable } from './accept';
export { HandshakeDriver, runMachine } from './driver';
