import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

/**
 * A mutual-TLS front for a plain-http server (the MESH sandbox), as MESH itself is reached: it asks
 * every client for a certificate and refuses one its CA did not sign, then pipes the decrypted
 * bytes to `target`.
 */
export interface TlsFront {
  url: string;
  /** Handshakes refused, with the client's certificate missing or not trusted. */
  refused: number;
  close(): Promise<void>;
}

export async function startTlsFront(options: {
  target: URL;
  cert: string;
  key: string;
  /** The CA whose client certificates are accepted. */
  clientCa: string;
}): Promise<TlsFront> {
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(
    {
      cert: readFileSync(options.cert),
      key: readFileSync(options.key),
      ca: readFileSync(options.clientCa),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (socket) => {
      const upstream = net.connect(Number(options.target.port), options.target.hostname);
      for (const s of [socket, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      }
      socket.pipe(upstream).pipe(socket);
    },
  );
  const front: TlsFront = { url: '', refused: 0, close: async () => undefined };
  server.on('tlsClientError', () => {
    front.refused += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  front.url = `https://127.0.0.1:${address.port}`;
  front.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return front;
}
