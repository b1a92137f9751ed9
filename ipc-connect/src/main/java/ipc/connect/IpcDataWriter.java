package ipc.connect;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;

/**
 * A body the sender writes into an {@link OutputStream} that leads straight into shared memory: a write of at least
 * {@value #DIRECT_WRITE_BYTES} bytes is copied from the caller's array into the ring once, with no copy in between;
 * smaller writes are gathered and leave as one frame when {@value #DIRECT_WRITE_BYTES} bytes are gathered, on
 * {@code flush()}, or at the end. The length is unbounded and memory stays bounded: a write waits while the receiver
 * has no room.
 *
 * <pre>{@code
 * client.send(IpcData.writer(out -> {
 *     for (byte[] block : blocks) {
 *         out.write(block);
 *     }
 * }), timeout);
 * }</pre>
 *
 * <p>The writer runs once, on the sending side's thread: on the client, a virtual thread that runs while the response
 * is read (so a handler that answers as it reads never waits on it); on the server, the handler's thread once the
 * handler has returned. The body ends when the writer returns; the stream must not be used after that. If the writer
 * throws, the receiver gets an {@link IpcException} instead of a truncated body, as with {@link IpcDataStream}. If
 * the receiver wants no more (the handler closed its request early, or the client closed the response or timed
 * out), writes throw {@link IpcClosedException}.
 */
public final class IpcDataWriter implements IpcData {
    /** Writes of at least this many bytes go straight into shared memory; smaller ones are gathered up to it. */
    public static final int DIRECT_WRITE_BYTES = 64 * 1024;

    private final BodyWriter writer;

    public IpcDataWriter(BodyWriter writer) {
        this.writer = Objects.requireNonNull(writer, "writer");
    }

    public BodyWriter writer() {
        return writer;
    }

    @Override
    public String toString() {
        return "IpcDataWriter[" + writer + "]";
    }

    /** Writes a body. */
    @FunctionalInterface
    public interface BodyWriter {
        /**
         * Writes the whole body into {@code body}, then returns.
         *
         * @throws IOException (or any exception) to fail the body: the receiver gets an {@link IpcException}
         */
        void writeTo(OutputStream body) throws IOException;
    }
}
