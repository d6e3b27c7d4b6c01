// A plain WebSocket server (the ws library, not netpulse) on loopback, for tests that script
// what a feed sends `netpulse watch`, and the smallest hello a netpulse feed opens with.
import { WebSocketServer } from 'ws';

export const MIN_HELLO = {
  type: 'hello',
  v: 1,
  seq: 0,
  server: { name: 'netpulse', version: '0.1.0' },
  source: { description: 't', clock: 'packet' },
  options: {},
  topics: ['summary'],
  hosts: null,
  summaries: [],
  alerts: [],
  stats: null,
  end: null,
};

const servers: WebSocketServer[] = [];

/** A listening server on 127.0.0.1 (any port); closeWsServers() ends it. */
export async function wsServer(): Promise<WebSocketServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(wss);
  await new Promise<void>((r) => wss.once('listening', () => r()));
  return wss;
}

/** Every server wsServer() started, its clients cut off (for afterEach). */
export async function closeWsServers(): Promise<void> {
  for (const s of servers.splice(0)) {
    for (const c of s.clients) c.terminate();
    await new Promise<void>((r) => s.close(() => r()));
  }
}
