package ipc.connect.internal.connection;

import ipc.connect.IpcClosedException;
import ipc.connect.IpcDataWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The stream an {@link IpcDataWriter} writes a body into: large writes become frames copied straight from the
 * caller's array into the ring; small ones are gathered into one buffer first (as {@code BufferedOutputStream}
 * does). Each frame is sent within the receiver's window. Used by one thread, the one running the body writer.
 */
final class FrameOutputStream extends OutputStream {
    private static final byte[] NOTHING = new byte[0];
    private final FrameWriter writer;
    private final long requestId;
    private final int dataKind;
    private final Credit credit;
    private final long stallTimeoutNanos;
    private final BooleanSupplier cancelled;
    private final Supplier<String> description;
    private byte[] gathered; // allocated on the first small write
    private int count;
    private boolean stopped;
    private IOException failed; // the connection's failure a write met
    private boolean finished;

    FrameOutputStream(FrameWriter writer, long requestId, int dataKind, Credit credit, long stallTimeoutNanos,
                      BooleanSupplier cancelled, Supplier<String> description) {
        this.writer = writer;
        this.requestId = requestId;
        this.dataKind = dataKind;
        this.credit = credit;
        this.stallTimeoutNanos = stallTimeoutNanos;
        this.cancelled = cancelled;
        this.description = description;
    }

    @Override
    public void write(int b) throws IOException {
        checkWritable();
        makeRoom(1);
        gathered[count++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        checkWritable();
        if (len >= IpcDataWriter.DIRECT_WRITE_BYTES) {
            flush();
            send(b, off, len, dataKind);
            return;
        }
        makeRoom(len);
        System.arraycopy(b, off, gathered, count, len);
        count += len;
    }

    /** Makes room to gather {@code len} more bytes (fewer than the buffer holds): allocates it, or sends it. */
    private void makeRoom(int len) throws IOException {
        if (gathered == null) {
            gathered = new byte[IpcDataWriter.DIRECT_WRITE_BYTES];
        } else if (len > gathered.length - count) {
            flush();
        }
    }

    /** Sends the gathered bytes now. */
    @Override
    public void flush() throws IOException {
        checkWritable();
        if (count > 0) {
            int n = count;
            count = 0;
            send(gathered, 0, n, dataKind);
        }
    }

    /** Sends the gathered bytes if the body can still go on; a failure shows in {@link #stopped} or {@link #failed}. */
    void flushQuietly() {
        try {
            flush();
        } catch (IOException ignored) {
            // recorded
        }
    }

    /** Ends the body: the gathered bytes, if any, in the {@code endKind} frame. Later writes fail. */
    boolean finish(int endKind) throws IOException {
        if (stopped || finished) {
            return false;
        }
        finished = true;
        int n = count;
        count = 0;
        return writer.writeBody(requestId, dataKind, endKind, n == 0 ? NOTHING : gathered, 0, n, credit,
                stallTimeoutNanos, cancelled, description);
    }

    /** Whether the receiver wanted no more (the writes threw for it). */
    boolean stopped() {
        return stopped;
    }

    /** The connection's failure (closed, timed out) a write met and threw, if any. */
    IOException failed() {
        return failed;
    }

    private void send(byte[] b, int off, int len, int kind) throws IOException {
        boolean written;
        try {
            written = writer.writeBody(requestId, kind, kind, b, off, len, credit, stallTimeoutNanos, cancelled,
                    description);
        } catch (IOException e) {
            failed = e;
            throw e;
        }
        if (!written) {
            stopped = true;
            throw stoppedException();
        }
    }

    private void checkWritable() throws IOException {
        if (failed != null) {
            throw failed;
        }
        if (finished) {
            throw new IOException(description.get() + ": the body is complete: the writer has returned");
        }
        if (stopped || cancelled.getAsBoolean()) {
            stopped = true;
            throw stoppedException();
        }
    }

    private IpcClosedException stoppedException() {
        return new IpcClosedException(description.get() + ": the receiver wants no more of the body");
    }

    /** Closing changes nothing: the body ends when the writer returns. */
    @Override
    public void close() {
    }
}
