export {};
// The live feed (owned by the feed): server, configuration, and the feed-only message types.
export { startFeed, type FeedSink } from './feed/server.js';
export { FEED_DEFAULTS, feedConfig, isLoopbackHost, parseServe, type FeedConfig } from './feed/config.js';
export {
  CLOSE,
  TOPICS,
  type FeedMessage,
  type HelloMessage,
  type LaggedMessage,
  type Sequenced,
  type ServerMessage,
  type SubscribeRequest,
  type Topic,
} from './feed/messages.js';
