import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { dropWritesToGonePeers } from '../../src/subscriptions/ws.js';

/** A socket whose every write fails with `error` while in `readyState`. */
function fakeSocket(readyState: number, error: (Error & { code?: string }) | undefined) {
  return {
    readyState,
    send(_data: unknown, cb?: (error?: Error) => void) {
      cb?.(error);
    },
  } as unknown as WebSocket;
}

const failure = (code: string) => Object.assign(new Error(`write ${code}`), { code });

function sendOn(socket: WebSocket): Promise<Error | undefined> {
  return new Promise((resolve) => socket.send('{}', (error?: Error) => resolve(error)));
}

describe('dropWritesToGonePeers', () => {
  it.each(['EPIPE', 'ECONNRESET'])('drops a write that failed with %s', async (code) => {
    const dropped: unknown[] = [];
    const socket = fakeSocket(WebSocket.OPEN, failure(code));
    dropWritesToGonePeers(socket, (c) => dropped.push(c));
    expect(await sendOn(socket)).toBeUndefined();
    expect(dropped).toEqual([code]);
  });

  it('drops any failed write once the socket is no longer open', async () => {
    const socket = fakeSocket(WebSocket.CLOSING, failure('ESOMETHING'));
    dropWritesToGonePeers(socket, () => {});
    expect(await sendOn(socket)).toBeUndefined();
  });

  it('passes on a failure of an open socket that is not the peer going away', async () => {
    const socket = fakeSocket(WebSocket.OPEN, failure('ENOMEM'));
    const dropped: unknown[] = [];
    dropWritesToGonePeers(socket, (c) => dropped.push(c));
    expect((await sendOn(socket))?.message).toBe('write ENOMEM');
    expect(dropped).toEqual([]);
  });

  it('leaves successful writes alone', async () => {
    const socket = fakeSocket(WebSocket.OPEN, undefined);
    dropWritesToGonePeers(socket, () => {});
    expect(await sendOn(socket)).toBeUndefined();
  });
});
