import type { LineLimits, NativeAddon } from '../engine/native/addon';
import { MAX_COMMAND_LINE, MAX_COMPLETE_LINE, MAX_GET_LINE } from '../protocol/line-limits';
import { ReplyShape } from './reply-reader';

/** What the native framer reports per request (native/src/bindings/framer_binding.cc). */
export const FRAME_INTS = 4;
const CAPACITY = 256;

/** What the proxy does with a framed request: its reply shape, whether a failed attempt may be retried elsewhere, its counter. */
export interface FrameKind {
  shape: ReplyShape;
  retryable: boolean;
  counts: 'get' | 'set' | 'touch' | null;
}

/** Per kind name of the addon's frameKinds (their numbers are the addon's). */
const KINDS: Record<keyof NativeAddon['frameKinds'], FrameKind> = {
  get: { shape: ReplyShape.Values, retryable: true, counts: 'get' }, // get, gets of one key
  set: { shape: ReplyShape.Line, retryable: true, counts: 'set' },
  storeOther: { shape: ReplyShape.Line, retryable: false, counts: 'set' }, // add, replace, append, prepend, cas
  delete: { shape: ReplyShape.Line, retryable: true, counts: null },
  touch: { shape: ReplyShape.Line, retryable: true, counts: 'touch' },
  arith: { shape: ReplyShape.Line, retryable: false, counts: null }, // incr, decr
};

/**
 * The addon's request framer: one call frames the plain requests at the start of a client's
 * input (one key, no noreply, data block complete) and hashes their keys in C++. Anything else
 * stops it; the TypeScript path then handles that request exactly as memcached would.
 */
export class NativeFramer {
  readonly out = new Int32Array(CAPACITY * FRAME_INTS);

  private readonly lines: LineLimits = { maxCommandLine: MAX_COMMAND_LINE, maxCompleteLine: MAX_COMPLETE_LINE, maxGetLine: MAX_GET_LINE };

  /** FrameKind by the number frameRequests reports. */
  readonly kinds: FrameKind[] = [];

  constructor(readonly addon: NativeAddon, private readonly maxValue: number) {
    for (const [name, kind] of Object.entries(KINDS)) this.kinds[addon.frameKinds[name as keyof typeof KINDS]] = kind;
  }

  /** Frames from `start`; returns how many descriptors `out` holds. */
  frame(buf: Buffer, start: number): number {
    return this.addon.frameRequests(buf, start, this.maxValue, this.out, this.lines);
  }
}
