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
     * read-only view of them (position 0, at least one byte remaining). The view is valid until the next read, skip,
     * {@code readView} or close of this stream; after that its content is undefined. The bytes count as read.
     *
     * <p>A body read by views while it is the only one in flight on its connection (a client's response, a handler's
     * request) is read in place: the views are of the shared memory the peer wrote (direct buffers), and no byte of
     * it is copied on this side (a peer process that broke the protocol could change them while you read: copy out
     * what you must check first). The connection's later frames wait behind the one viewed, so until this stream's
     * next call or close, the other calls of the same client wait for their responses (or, in a server, the
     * client's other requests for their handlers), and on the client a call from the thread holding such a view fails
     * at once with an {@link IpcException} (it would wait for itself): read on, or close the stream, first. In a
     * server, a view of the request lent in place lasts until the handler's next read or its return, whichever comes
     * first: its response then begins, and may need the window the client returns behind it (a response writer that
     * reads on by views gets views of the receive buffer). A body read with others in flight on its connection is
     * viewed in the stream's receive buffer instead (heap buffers), into which its bytes were copied out of shared
     * memory.
     *
     * @return the view, or {@code null} at the end of the body
     * @throws IllegalArgumentException if {@code maxLength} is not positive
     * @throws IOException as {@code read} does: the stream was closed, the peer failed, or the wait timed out
     */
    public abstract ByteBuffer readView(int maxLength) throws IOException;
}
