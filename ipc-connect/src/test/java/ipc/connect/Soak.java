package ipc.connect;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

/**
 * The soak protocol: every body is {@code [payload][crc32c of payload: 8 bytes]}. The client sends a random
 * payload of 0 to 4 MiB; the server checks it and answers a random payload whose size and bytes derive from the
 * request's CRC; the client checks that answer against its own derivation.
 */
final class Soak {
    static final int MAX_PAYLOAD = 4 << 20;

    private Soak() {
    }

    static byte[] withCrc(byte[] payload) {
        CRC32C crc = new CRC32C();
        crc.update(payload);
        return ByteBuffer.allocate(payload.length + 8).put(payload).putLong(crc.getValue()).array();
    }

    /** The payload of a body, after checking its trailer. */
    static byte[] check(byte[] body, String what) throws IOException {
        if (body.length < 8) {
            throw new IOException(what + ": body of " + body.length + " bytes has no CRC trailer");
        }
        CRC32C crc = new CRC32C();
        crc.update(body, 0, body.length - 8);
        long expected = ByteBuffer.wrap(body, body.length - 8, 8).getLong();
        if (crc.getValue() != expected) {
            throw new IOException(what + ": CRC mismatch over " + (body.length - 8) + " bytes");
        }
        return java.util.Arrays.copyOf(body, body.length - 8);
    }

    /** The answer the server gives to a request whose payload has this CRC. */
    static byte[] answerPayload(long requestCrc) {
        SplittableRandom random = new SplittableRandom(requestCrc);
        byte[] payload = new byte[random.nextInt(8) == 0 ? random.nextInt(MAX_PAYLOAD + 1) : random.nextInt(4096)];
        random.nextBytes(payload);
        return payload;
    }

    static IpcData answer(byte[] body) throws IOException {
        byte[] payload = check(body, "request");
        CRC32C crc = new CRC32C();
        crc.update(payload);
        return new IpcDataBytes(withCrc(answerPayload(crc.getValue())));
    }

    /** Runs requests for {@code seconds}; returns {requests, bytes both ways}. Any mismatch throws. */
    static long[] run(IpcClient client, long seconds) throws IOException {
        SplittableRandom random = new SplittableRandom(ProcessHandle.current().pid());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        long requests = 0;
        long bytes = 0;
        while (System.nanoTime() < deadline) {
            byte[] payload = new byte[random.nextInt(8) == 0 ? random.nextInt(MAX_PAYLOAD + 1) : random.nextInt(4096)];
            random.nextBytes(payload);
            byte[] response = client.sendAndReceive(withCrc(payload), Duration.ofSeconds(60));
            byte[] answer = check(response, "response " + requests);
            CRC32C crc = new CRC32C();
            crc.update(payload);
            if (!java.util.Arrays.equals(answer, answerPayload(crc.getValue()))) {
                throw new IOException("response " + requests + ": not the answer to this request");
            }
            requests++;
            bytes += payload.length + answer.length;
        }
        return new long[] {requests, bytes};
    }
}
