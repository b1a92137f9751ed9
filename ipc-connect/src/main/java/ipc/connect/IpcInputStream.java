package ipc.connect;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * A request or response body as it arrives: the stream {@link IpcClient#send(IpcData, java.time.Duration)} returns
 * and a handler's {@code request}. Besides the {@link InputStream} reads, which copy into the caller's array, it can
 * lend its bytes in place with {@link #readView(int)}.
 */
public abstract class IpcInputStream extends InputStream {

    /** For the library's implementation. */
    protected IpcInputStream() {
    }

    /**
     * Reads up to {@code maxLength} bytes without copying them: waits for data as {@code read} does, then returns a
     * read-only view of them in the stream's receive buffer (position 0, at least one byte remaining). The view is
     * valid until the next read, skip, {@code readView} or close of this stream; after that its content is
     * undefined. The bytes count as read.
     *
     * @return the view, or {@code null} at the end of the body
     * @throws IllegalArgumentException if {@code maxLength} is not positive
     * @throws IOException as {@code read} does: the stream was closed, the peer failed, or the wait timed out
     */
    public abstract ByteBuffer readView(int maxLength) throws IOException;
}
