// Where messages go: stdout NDJSON, the console, alert files, webhooks, the feed.
// The pipeline builds each message and its JSON text once and hands both to every sink.

import type { Message } from '../schema.js';

export interface Sink {
  /** Must not block: a slow consumer buffers boundedly or drops, and counts it. */
  publish(msg: Message, json: string): void;
  /** Flush and release; resolves when everything accepted has been written or given up. */
  close(): Promise<void>;
}
