import { createServer, type Server } from 'node:http';

/**
 * An A2A agent that closes every connection without an answer while `reply()` is undefined, and
 * answers a JSON-RPC message with that text once it is set.
 */
export function listenBusy(reply: () => string | undefined): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = reply();
      if (text === undefined) return req.socket.destroy();
      let id: unknown = null;
      try {
        id = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: unknown }).id;
      } catch {
        // not JSON-RPC: answer with a null id
      }
      const message = {
        kind: 'message',
        role: 'agent',
        messageId: 'busy',
        parts: [{ kind: 'text', text }],
      };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ jsonrpc: '2.0', id: id ?? null, result: message }));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
