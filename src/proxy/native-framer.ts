import type { LineLimits, NativeAddon } from '../engine/native/addon';
import { MAX_COMMAND_LINE, MAX_COMPLETE_LINE, MAX_GET_LINE } from '../engine/ts/net/limits';
import { ReplyShape } from './reply-reader';

/** What the native framer reports per request (native/src/bindings/framer_binding.cc). */
export const FRAME_INTS = 4;
const CAPACITY = 256;

/** Per descriptor kind: reply shape, whether a failed attempt may be retried elsewhere, counter. */
export const FRAME_KINDS: readonly ({ shape: ReplyShape; retryable: boolean; counts: 'get' | 'set' | 'touch' | null } | null)[] = [
  null,
  { shape: ReplyShape.Values, retryable: true, counts: 'get' }, // get, gets of one key
  { shape: ReplyShape.Line, retryable: true, counts: 'set' }, // set
  { shape: ReplyShape.Line, retryable: false, counts: 'set' }, // add, replace, append, prepend, cas
  { shape: ReplyShape.Line, retryable: true, counts: null }, // delete
  { shape: ReplyShape.Line, retryable: true, counts: 'touch' }, // touch
  { shape: ReplyShape.Line, retryable: false, counts: null }, // incr, decr
];

/**
 * The addon's request framer: one call frames the plain requests at the start of a client's
 * input (one key, no noreply, data block complete) and hashes their keys in C++. Anything else
 * stops it; the TypeScript path then handles that request exactly as memcached would.
 */
export class NativeFramer {
  readonly out = new Int32Array(CAPACITY * FRAME_INTS);

  private readonly lines: LineLimits = { maxCommandLine: MAX_COMMAND_LINE, maxCompleteLine: MAX_COMPLETE_LINE, maxGetLine: MAX_GET_LINE };

  constructor(readonly addon: NativeAddon, private readonly maxValue: number) {}

  /** Frames from `start`; returns how many descriptors `out` holds. */
  frame(buf: Buffer, start: number): number {
    return this.addon.frameRequests(buf, start, this.maxValue, this.out, this.lines);
  }
}
