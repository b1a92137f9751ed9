package ipc.connect;

import java.io.InputStream;
import java.util.Objects;

/**
 * A body read from a stream up to its end and sent chunk by chunk as it is read, so its length is unbounded and
 * memory stays bounded. A short read is never taken for the end: only {@code -1} ends the body. If reading the
 * stream throws, the receiver gets an {@link IpcException} instead of a truncated body.
 */
public final class IpcDataStream implements IpcData {
    private final InputStream stream;
    private final boolean closeStream;

    /** A stream that is closed once sent. */
    public IpcDataStream(InputStream stream) {
        this(stream, true);
    }

    /**
     * @param closeStream whether to close the stream once it has been sent (or sending failed)
     */
    public IpcDataStream(InputStream stream, boolean closeStream) {
        this.stream = Objects.requireNonNull(stream, "stream");
        this.closeStream = closeStream;
    }

    public InputStream stream() {
        return stream;
    }

    public boolean closeStream() {
        return closeStream;
    }

    @Override
    public String toString() {
        return "IpcDataStream[closeStream=" + closeStream + "]";
    }
}
