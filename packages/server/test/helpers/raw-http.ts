import { connect, type Socket } from 'node:net';

/** A plain TCP connection to a gateway, for requests no well-behaved client library would send. */
export interface RawConnection {
  socket: Socket;
  /** Everything the server has written so far. */
  received(): string;
  /** Resolves when the server closes (or resets) the connection. */
  closed: Promise<void>;
  /** Bytes this side managed to write before the server closed. */
  written(): number;
}

export async function rawConnection(baseUrl: string): Promise<RawConnection> {
  const { hostname, port } = new URL(baseUrl);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  // A reset after the server answered is an expected end here, not a failure.
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, received: () => text, closed, written: () => socket.bytesWritten };
}

/** A masked client frame (RFC 6455 §5.2) with any opcode, FIN bit and payload, valid or not. */
export function clientFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const length = payload.length;
  const header =
    length < 126
      ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | length])
      : Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, length >> 8, length & 0xff]);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([header, mask, masked]);
}
