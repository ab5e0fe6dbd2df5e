import type { ConnectionState } from '../index';

/** Writes events either as JSON lines or as short human lines. */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly out: NodeJS.WritableStream = process.stdout,
  ) {}

  event(event: string, fields: Record<string, unknown>, human: string): void {
    this.out.write(this.json ? JSON.stringify({ event, ...fields }) + '\n' : human + '\n');
  }

  state(state: ConnectionState): void {
    this.event('state', { state }, `state: ${describeState(state)}`);
  }
}

export const describeState = (s: ConnectionState): string => {
  switch (s.status) {
    case 'listening':
      return 'listening';
    case 'connecting':
      return `connecting (attempt ${s.attempt})`;
    case 'handshaking':
      return `handshaking (${s.step})`;
    case 'connected':
      return (
        `connected to ${JSON.stringify(s.peer.interfaceName)} of ${JSON.stringify(s.peer.appName)}, ` +
        `${s.mode}, ${s.queues.rx} rx / ${s.queues.tx} tx queues, ring ${s.ringSize}, buffer ${s.bufferSize}` +
        (s.peer.uid === undefined
          ? ''
          : `, peer pid ${s.peer.pid} uid ${s.peer.uid} gid ${s.peer.gid}`)
      );
    case 'disconnected': {
      const retry = s.retry ? `, retry ${s.retry.attempt} in ${s.retry.inMs} ms` : '';
      return `disconnected by ${s.by}: ${s.reason}${retry}`;
    }
    case 'closed':
      return 'closed';
  }
};
