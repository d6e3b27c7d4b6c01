// Operational failures a user can cause or meet: each has a stable code, an exit status
// and a one-line message that says what to do. Tests assert on `code`, never on text.

import { printable } from './text.js';

/** Exit statuses of the CLI, by class of failure (documented in the README). */
export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  badInput: 3,
  inputAccess: 4,
  capture: 5,
  server: 6,
  interrupted: 130,
} as const;

export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];

/** Every stable error code, with the exit status the CLI uses for it. */
export const ERROR_CODES = {
  // usage and configuration
  ERR_BAD_OPTION: EXIT.usage,
  ERR_CONFIG: EXIT.usage,
  // capture files: structure
  ERR_PCAP_BAD_MAGIC: EXIT.badInput,
  ERR_PCAP_TRUNCATED_HEADER: EXIT.badInput,
  ERR_PCAP_TRUNCATED_RECORD: EXIT.badInput,
  ERR_PCAP_BAD_RECORD_LENGTH: EXIT.badInput,
  ERR_PCAPNG_BAD_BLOCK: EXIT.badInput,
  ERR_PCAPNG_BAD_BYTE_ORDER: EXIT.badInput,
  ERR_PCAPNG_UNDEFINED_INTERFACE: EXIT.badInput,
  ERR_PCAPNG_TRUNCATED_BLOCK: EXIT.badInput,
  ERR_UNSUPPORTED_FORMAT: EXIT.badInput,
  ERR_DECOMPRESS: EXIT.badInput,
  ERR_EMPTY_INPUT: EXIT.badInput,
  // capture files: access
  ERR_FILE_NOT_FOUND: EXIT.inputAccess,
  ERR_FILE_ACCESS: EXIT.inputAccess,
  ERR_FILE_READ: EXIT.inputAccess,
  // live capture
  ERR_NO_DEVICE: EXIT.capture,
  ERR_CAPTURE_PERMISSION: EXIT.capture,
  ERR_CAP_UNAVAILABLE: EXIT.capture,
  ERR_BAD_FILTER: EXIT.capture,
  ERR_DEVICE_DOWN: EXIT.capture,
  ERR_CAPTURE_FAILED: EXIT.capture,
  ERR_DROP_PRIVILEGES: EXIT.capture,
  // feed, sinks, network
  ERR_LISTEN: EXIT.server,
  ERR_TOKEN_REQUIRED: EXIT.usage,
  ERR_FEED_CONNECT: EXIT.server,
  ERR_OUTPUT: EXIT.server,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorDetail {
  /** The file (or "-" for stdin, or an interface name) the failure is about. */
  readonly subject?: string;
  /** Byte offset in the (decompressed) input where the fault was found. */
  readonly offset?: number;
  readonly cause?: unknown;
}

/**
 * The one error type the CLI turns into a single line and an exit status.
 * `message` is complete on its own: what is wrong, and what to do about it.
 */
export class AnalyzerError extends Error {
  readonly code: ErrorCode;
  readonly subject: string | undefined;
  readonly offset: number | undefined;

  constructor(code: ErrorCode, message: string, detail: ErrorDetail = {}) {
    super(message, detail.cause === undefined ? undefined : { cause: detail.cause });
    this.name = 'AnalyzerError';
    this.code = code;
    this.subject = detail.subject;
    this.offset = detail.offset;
  }

  get exitCode(): ExitStatus {
    return ERROR_CODES[this.code];
  }

  /** The line the CLI prints: `FILE: offset N: message (CODE)`. */
  oneLine(): string {
    const where: string[] = [];
    if (this.subject !== undefined) where.push(this.subject);
    if (this.offset !== undefined) where.push(`offset ${this.offset}`);
    const prefix = where.length > 0 ? `${where.join(': ')}: ` : '';
    // a file name or a value quoted from the input may hold control characters
    return printable(`${prefix}${this.message.replace(/\s*\n\s*/g, ' ')} [${this.code}]`);
  }
}

/** A malformed or unsupported capture file. */
export class CaptureFormatError extends AnalyzerError {
  constructor(code: ErrorCode, message: string, detail: ErrorDetail = {}) {
    super(code, message, detail);
    this.name = 'CaptureFormatError';
  }
}

/** Bad command-line option or configuration value. */
export class ConfigError extends AnalyzerError {
  constructor(message: string, detail: ErrorDetail = {}) {
    super('ERR_CONFIG', message, detail);
    this.name = 'ConfigError';
  }
}

/** Live capture failures (device, permission, libpcap, filter). */
export class CaptureError extends AnalyzerError {
  constructor(code: ErrorCode, message: string, detail: ErrorDetail = {}) {
    super(code, message, detail);
    this.name = 'CaptureError';
  }
}

export function isAnalyzerError(e: unknown): e is AnalyzerError {
  return e instanceof AnalyzerError;
}
