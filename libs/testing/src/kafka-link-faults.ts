import net from 'node:net';
import type { ISocketFactory } from 'kafkajs';

/** Kafka's request header starts after the 4-byte size: int16 api key, 0 is Produce. */
const PRODUCE_API_KEY = 0;

function isProduceRequest(chunk: unknown): boolean {
  return Buffer.isBuffer(chunk) && chunk.length >= 6 && chunk.readInt16BE(4) === PRODUCE_API_KEY;
}

function linkDown(message: string): Error {
  return Object.assign(new Error(message), { code: 'ECONNRESET' });
}

/**
 * Faults on the wire between one kafkajs client and a real broker, for what killing the broker
 * cannot do on cue: `loseNextProduceAnswer` lets the next Produce request reach the broker (which
 * appends it) but never delivers its answer, then drops the connection and refuses new ones for
 * `outageMs`: the "written, but the ack was lost" case of a broker crash or a network cut.
 * Hand `socketFactory` to `new Kafka({ socketFactory })`; every other byte passes untouched.
 */
export class KafkaLinkFaults {
  private armed: { outageMs: number } | undefined;
  private refuseUntil = 0;
  /** Produce requests whose answers were lost so far. */
  lostAnswers = 0;

  loseNextProduceAnswer(options: { outageMs: number }): void {
    this.armed = options;
  }

  readonly socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    if (Date.now() < this.refuseUntil) {
      const refused = new net.Socket();
      // kafkajs attaches its listeners after the factory returns: fail on the next tick.
      process.nextTick(() => {
        refused.destroy(
          Object.assign(new Error(`connect ECONNREFUSED ${host}:${port} (link down)`), {
            code: 'ECONNREFUSED',
          }),
        );
      });
      return refused;
    }
    const socket = net.connect({ host, port }, onConnect);
    socket.setNoDelay(true);
    let muted = false;
    const emit = socket.emit.bind(socket) as (
      event: string | symbol,
      ...args: unknown[]
    ) => boolean;
    socket.emit = ((event: string | symbol, ...args: unknown[]) =>
      muted && event === 'data' ? true : emit(event, ...args)) as typeof socket.emit;
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((chunk: unknown, ...rest: unknown[]) => {
      const armed = this.armed;
      if (armed && isProduceRequest(chunk)) {
        this.armed = undefined;
        this.lostAnswers += 1;
        muted = true;
        this.refuseUntil = Date.now() + armed.outageMs;
        // Long enough for the broker to append; the client then sees the connection reset.
        setTimeout(() => socket.destroy(linkDown('connection reset (answer lost)')), 300);
      }
      return write(chunk, ...rest);
    }) as typeof socket.write;
    return socket;
  };
}
