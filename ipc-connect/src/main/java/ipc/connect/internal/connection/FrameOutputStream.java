package ipc.connect.internal.connection;

import ipc.connect.IpcClosedException;
import ipc.connect.IpcDataWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Objects;

/**
 * The stream an {@link IpcDataWriter} writes a body into: large writes become frames copied straight from the
 * caller's array into the ring; small ones are gathered into one buffer first (as {@code BufferedOutputStream}
 * does). Each frame is sent within the receiver's window. Used by one thread, the one running the body writer.
 */
final class FrameOutputStream extends OutputStream {
    private static final byte[] NOTHING = new byte[0];
    /** The gathering buffer's first size: see {@link #makeRoom}. */
    private static final int FIRST_GATHER_BYTES = 256;
    private final FrameWriter writer;
    private final long requestId;
    private final int dataKind;
    private final Credit credit;
    private final long stallTimeoutNanos;
    private final Outgoing sending;
    private byte[] gathered; // allocated on the first small write, grown up to DIRECT_WRITE_BYTES
    private int count;
    private boolean stopped;
    private IOException failed; // the connection's failure a write met
    private boolean finished;

    FrameOutputStream(FrameWriter writer, long requestId, int dataKind, Credit credit, long stallTimeoutNanos,
                      Outgoing sending) {
        this.writer = writer;
        this.requestId = requestId;
        this.dataKind = dataKind;
        this.credit = credit;
        this.stallTimeoutNanos = stallTimeoutNanos;
        this.sending = sending;
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

    /**
     * Makes room to gather {@code len} more bytes (fewer than {@link IpcDataWriter#DIRECT_WRITE_BYTES}): sends what
     * is gathered if the buffer at its largest could not hold them too, and grows the buffer as needed. It starts
     * small: a body of a few small writes allocated the whole 64 KiB for each exchange.
     */
    private void makeRoom(int len) throws IOException {
        if (gathered != null && len <= gathered.length - count) {
            return;
        }
        if (count + len > IpcDataWriter.DIRECT_WRITE_BYTES) {
            flush();
        }
        if (gathered == null || len > gathered.length - count) {
            gathered = Arrays.copyOf(gathered == null ? NOTHING : gathered, gatherSize(count + len));
        }
    }

    /** The least {@value #FIRST_GATHER_BYTES} times a power of four that holds {@code bytes}, at most the largest. */
    private static int gatherSize(int bytes) {
        int size = FIRST_GATHER_BYTES;
        while (size < bytes) {
            size *= 4;
        }
        return Math.min(size, IpcDataWriter.DIRECT_WRITE_BYTES);
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
                stallTimeoutNanos, sending);
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
            written = writer.writeBody(requestId, kind, kind, b, off, len, credit, stallTimeoutNanos, sending);
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
            throw new IOException(sending.description() + ": the body is complete: the writer has returned");
        }
        if (stopped || sending.stopSending()) {
            stopped = true;
            throw stoppedException();
        }
    }

    private IpcClosedException stoppedException() {
        return new IpcClosedException(sending.description() + ": the receiver wants no more of the body");
    }

    /** Closing changes nothing: the body ends when the writer returns. */
    @Override
    public void close() {
    }
}
