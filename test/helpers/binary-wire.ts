import type { RawClient } from './client';
import { request, splitResponses, type RequestFields, type Response } from './binary-packets';

/**
 * The proxy tests' use of the binary packets (binary-packets.ts): requests by opcode, and an
 * exchange fenced by a noop, so a batch's replies are read up to that noop's, from memcached
 * and the proxy alike.
 */

/** A request packet; `bodylen` overrides the body length written in the header. */
export function packet(opcode: number, f: Omit<RequestFields, 'opcode' | 'bodyLength'> & { bodylen?: number } = {}): Buffer {
  return request({ ...f, opcode, bodyLength: f.bodylen });
}

/** The whole response packets at the start of `buf`, and how many bytes they take. */
export function responses(buf: Buffer): { packets: Response[]; used: number } {
  const { packets, rest } = splitResponses(buf);
  return { packets, used: buf.length - rest };
}

const NOOP = 0x0a;

/** Sends `batch`, then a noop with `fence` as its opaque, and reads up to that noop's reply. */
export async function binaryExchange(c: RawClient, batch: Buffer, fence = 0xfeedf00d): Promise<Response[]> {
  c.send(Buffer.concat([batch, packet(NOOP, { opaque: fence })]));
  let out: Response[] = [];
  await c.readUntil('the fencing noop reply', (buf) => {
    const { packets, used } = responses(buf);
    const last = packets[packets.length - 1];
    if (used !== buf.length || !last || last.opcode !== NOOP || last.opaque !== fence) return -1;
    out = packets;
    return buf.length;
  }, 10_000);
  return out;
}
