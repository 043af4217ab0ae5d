/** Reading a request body in the simulator, with a size cap. */
import type { IncomingMessage } from 'node:http';

/** The body as UTF-8 text; rejects with `tooLarge()` as soon as it passes `maxBytes`. */
export async function readText(
  req: IncomingMessage,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
