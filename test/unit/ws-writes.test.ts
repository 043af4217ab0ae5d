import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { sendToPeer } from '../../src/subscriptions/adapter.js';

/** A socket whose every write fails with `error` while in `readyState`; it counts writes. */
function fakeSocket(readyState: number, error: (Error & { code?: string }) | undefined) {
  const socket = {
    readyState,
    writes: 0,
    send(_data: unknown, cb?: (error?: Error) => void) {
      socket.writes++;
      // Like a real write, the outcome arrives later.
      setImmediate(() => cb?.(error));
    },
  };
  return socket as typeof socket & WebSocket;
}

const failure = (code: string) => Object.assign(new Error(`write ${code}`), { code });

describe('sendToPeer', () => {
  it.each(['EPIPE', 'ECONNRESET'])('drops a write that failed with %s', async (code) => {
    const dropped: unknown[] = [];
    const socket = fakeSocket(WebSocket.OPEN, failure(code));
    await expect(sendToPeer(socket, '{}', (c) => dropped.push(c))).resolves.toBeUndefined();
    expect(dropped).toEqual([code]);
  });

  it('drops any failed write once the socket is no longer open', async () => {
    const socket = fakeSocket(WebSocket.OPEN, failure('ESOMETHING'));
    const dropped: unknown[] = [];
    const sent = sendToPeer(socket, '{}', (c) => dropped.push(c));
    // The peer went away while the write was under way.
    socket.readyState = WebSocket.CLOSING;
    await expect(sent).resolves.toBeUndefined();
    expect(dropped).toEqual(['ESOMETHING']);
  });

  it('does not write to a socket that is closing or closed', async () => {
    for (const state of [WebSocket.CLOSING, WebSocket.CLOSED]) {
      const socket = fakeSocket(state, undefined);
      await expect(sendToPeer(socket, '{}', () => {})).resolves.toBeUndefined();
      expect(socket.writes).toBe(0);
    }
  });

  it('rejects a failure of an open socket that is not the peer going away', async () => {
    const socket = fakeSocket(WebSocket.OPEN, failure('ENOMEM'));
    const dropped: unknown[] = [];
    await expect(sendToPeer(socket, '{}', (c) => dropped.push(c))).rejects.toThrow('write ENOMEM');
    expect(dropped).toEqual([]);
  });

  it('resolves a successful write', async () => {
    const socket = fakeSocket(WebSocket.OPEN, undefined);
    await expect(sendToPeer(socket, '{}', () => {})).resolves.toBeUndefined();
    expect(socket.writes).toBe(1);
  });
});
