package ipc.connect.internal.connection;

import ipc.connect.IpcDataWriter;
import ipc.connect.IpcException;
import ipc.connect.IpcTimeoutException;
import ipc.connect.internal.memory.SharedAccess;
import ipc.connect.internal.ring.OneToOneRing;
import ipc.connect.internal.ring.RingCorruptedException;
import ipc.connect.internal.signal.Signal;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The producing end of a ring, shared by the threads of one process: each frame is written whole under a lock, so
 * frames of concurrent exchanges interleave but never mix. A writer that finds the ring full parks until its poller
 * thread ({@link #wakeIfRoom()}) sees the consumer move, so writers never sleep in the kernel themselves.
 *
 * <p>After {@link #close} every write fails with the exception the supplier makes; close waits for a frame being
 * written to finish, so the caller may unmap the ring afterwards.
 */
public final class FrameWriter {
    private static final long PARK_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    /**
     * How long a writer that finds the ring full polls for room before it parks. A consumer that keeps up (a stream
     * read in place, or copied out) makes room within microseconds, and the park costs more than that: the writer
     * then waits for its process's poller to see the move and unpark it, and for its thread (or carrier) to be woken.
     * Zero-copy 2 GB transfers, 32 of each way in interleaved runs: upload median 5.5-6.9 → 8.1-9.3 GB/s, download
     * 7.4-7.7 → 10.8-10.9 GB/s; {@code bench}'s 10 GB zero-copy rows, three interleaved pairs: download 1.20-1.39 →
     * 0.98-1.11 s, upload 1.06-1.60 → 0.97-1.26 s (plain streams unchanged). Polling for window credit the same way,
     * while another thread read the window in, slowed uploads (the sender's poll took that thread's core); a sender
     * now reads the window in itself while it polls ({@link Credit}). Longer polls here (200 µs or 1 ms, with or
     * without {@link #WAITS_WITHOUT_POLL}) parked less, but moved zero-copy 4 GB streams no faster, within the noise.
     */
    private static final long ROOM_POLL_NANOS = TimeUnit.MICROSECONDS.toNanos(50);
    /**
     * After a poll for room that ran out (a slow consumer), the waits for room that park at once, before the next
     * poll: a writer ahead of a slow consumer would otherwise poll out its time at every frame.
     */
    private static final int WAITS_WITHOUT_POLL = 8;
    /** The least a streamed body's first chunk array holds: see {@link #chunkArray}. */
    private static final int FIRST_CHUNK_BYTES = 256;

    private final OneToOneRing ring;
    private final Signal peer;
    /** Whether the consumer's pollers may be busy with an earlier frame: see {@link Signal#signal(BooleanSupplier)}. */
    private final BooleanSupplier pollersMayBeBusy;
    private final ReentrantLock lock = new ReentrantLock();
    private final int maxChunk;
    private final long bodyBytesCounter;
    private volatile Thread roomWaiter;
    /** Waits for room still to park at once ({@link #WAITS_WITHOUT_POLL}); guarded by {@link #lock}. */
    private int waitsWithoutPoll;
    private volatile long peerWokenAt;
    private volatile long headAtWait;
    private volatile Supplier<? extends IOException> closedBy;
    private volatile String corruption;

    /**
     * @param ring the ring this process produces into
     * @param peer the signal the consumer's poller sleeps on
     * @param bodyBytesCounter offset in the ring's segment of the counter of body bytes written
     */
    public FrameWriter(OneToOneRing ring, Signal peer, long bodyBytesCounter) {
        this(ring, peer, () -> false, bodyBytesCounter);
    }

    /**
     * @param ring the ring this process produces into
     * @param peer the signal the consumer's poller sleeps on
     * @param pollersMayBeBusy whether the consumer's pollers, if counted, may be busy with an earlier frame: a write
     *     then wakes the consumer anyway ({@link Signal#signal(BooleanSupplier)})
     * @param bodyBytesCounter offset in the ring's segment of the counter of body bytes written
     */
    public FrameWriter(OneToOneRing ring, Signal peer, BooleanSupplier pollersMayBeBusy, long bodyBytesCounter) {
        this.ring = ring;
        this.peer = peer;
        this.pollersMayBeBusy = pollersMayBeBusy;
        this.bodyBytesCounter = bodyBytesCounter;
        this.maxChunk = ring.maxPayloadLength() - FrameDescriptor.HEADER_LENGTH;
        this.peerWokenAt = System.nanoTime() - (1L << 62);
    }

    public int maxChunk() {
        return maxChunk;
    }

    /**
     * Writes one frame, waiting for room at most {@code stallTimeoutNanos} (0: no limit).
     *
     * @throws IpcTimeoutException if the consumer made no room in time
     * @throws IOException the close cause once closed
     */
    public void write(int kind, long requestId, byte[] chunk, int offset, int length, long stallTimeoutNanos,
                      Outgoing sending) throws IOException {
        if (length > maxChunk) {
            throw new IllegalArgumentException("chunk of " + length + " bytes exceeds the frame limit of " + maxChunk);
        }
        lock.lock();
        try {
            long at = claim(kind, length, stallTimeoutNanos, sending);
            MemorySegment segment = ring.segment();
            segment.set(ValueLayout.JAVA_LONG_UNALIGNED, at + FrameDescriptor.REQUEST_ID_OFFSET, requestId);
            if (length > 0) {
                MemorySegment.copy(chunk, offset, segment, ValueLayout.JAVA_BYTE,
                        at + FrameDescriptor.HEADER_LENGTH, length);
            }
            ring.commit();
            if (length > 0 && kind != FrameDescriptor.ERROR && kind != FrameDescriptor.WINDOW) {
                SharedAccess.addLongConfined(segment, bodyBytesCounter, length); // writers hold the lock
            }
        } catch (IllegalStateException e) {
            // the mapping was closed under us: the connection is gone
            ring.abort();
            throw closedException();
        } catch (RingCorruptedException e) {
            corruption = e.getMessage();
            throw new IpcException(sending.description() + ": " + e.getMessage());
        } finally {
            lock.unlock();
        }
        signalPeer();
    }

    /**
     * Writes a frame without a chunk if there is room now.
     *
     * @return whether it was written
     */
    public boolean tryWriteEmpty(int kind, long requestId) {
        if (closedBy != null || !lock.tryLock()) {
            return false;
        }
        try {
            if (closedBy != null) {
                return false;
            }
            long at = ring.tryClaim(kind, FrameDescriptor.HEADER_LENGTH);
            if (at < 0) {
                return false;
            }
            ring.segment().set(ValueLayout.JAVA_LONG_UNALIGNED, at + FrameDescriptor.REQUEST_ID_OFFSET, requestId);
            ring.commit();
        } catch (IllegalStateException e) {
            return false;
        } catch (RingCorruptedException e) {
            corruption = e.getMessage();
            return false;
        } finally {
            lock.unlock();
        }
        signalPeer();
        return true;
    }

    private void signalPeer() {
        if (peer.signal(pollersMayBeBusy)) {
            peerWokenAt = System.nanoTime();
        }
    }

    /**
     * When a write last woke the consumer's poller from a sleep ({@link System#nanoTime()}; at first, a time long
     * past): a reply to what was written since then takes a while, and on few cores the woken thread may be placed
     * on the writer's own.
     */
    public long peerWokenAt() {
        return peerWokenAt;
    }

    /**
     * Writes a body of at most {@link #maxChunk()} bytes as one {@code endKind} frame, without taking credit: the
     * receiver's initial window (four ring capacities) always holds it. A small body so costs no atomic update of a
     * window, and needs none made.
     *
     * @return {@code true} if the frame was written; {@code false}, writing nothing, if the sender stopped first
     */
    public boolean writeWhole(long requestId, int endKind, byte[] bytes, int offset, int length,
                              long stallTimeoutNanos, Outgoing sending) throws IOException {
        if (sending.stopSending()) {
            return false;
        }
        write(endKind, requestId, bytes, offset, length, stallTimeoutNanos, sending);
        return true;
    }

    /**
     * Writes {@code length} bytes of {@code bytes} as frames of {@code dataKind}, the last of them as
     * {@code endKind}, each within the receiver's window.
     *
     * @return {@code true} if the end frame was written; {@code false} if cancelled (or the credit released) first
     */
    public boolean writeBody(long requestId, int dataKind, int endKind, byte[] bytes, int offset, int length,
                             Credit credit, long stallTimeoutNanos, Outgoing sending) throws IOException {
        int position = offset;
        int end = offset + length;
        do {
            if (sending.stopSending()) {
                return false;
            }
            int n = credit.take(Math.min(maxChunk, end - position), stallTimeoutNanos, sending);
            if (n == 0 && position < end) {
                return false;
            }
            boolean last = position + n == end;
            write(last ? endKind : dataKind, requestId, bytes, position, n, stallTimeoutNanos, sending);
            position += n;
            if (last) {
                return true;
            }
        } while (true);
    }

    /**
     * Streams {@code source} to its end as frames of {@code dataKind} within the receiver's window, then an empty
     * {@code endKind} frame. Bytes are sent as they become available: a short read is sent as it is and never taken
     * for the end.
     *
     * @return {@code true} if the end frame was written; {@code false} if cancelled (or the credit released) first
     * @throws SourceException if reading {@code source} threw (no end frame is written)
     */
    public boolean writeStream(long requestId, int dataKind, int endKind, InputStream source, Credit credit,
                               long stallTimeoutNanos, Outgoing sending) throws IOException {
        byte[] chunk = null;
        int filled = 0;
        while (true) {
            if (sending.stopSending()) {
                return false;
            }
            try {
                chunk = chunkArray(chunk, filled, source);
                filled = source.read(chunk, 0, chunk.length);
                if (filled < 0) {
                    break;
                }
                // take what is already there, without blocking, to make fuller frames
                while (filled < chunk.length && source.available() > 0) {
                    int n = source.read(chunk, filled, chunk.length - filled);
                    if (n < 0) {
                        break;
                    }
                    filled += n;
                }
            } catch (IOException | RuntimeException e) {
                throw new SourceException(e);
            }
            for (int sent = 0; sent < filled; ) {
                int n = credit.take(filled - sent, stallTimeoutNanos, sending);
                if (n == 0) {
                    return false;
                }
                write(dataKind, requestId, chunk, sent, n, stallTimeoutNanos, sending);
                sent += n;
            }
        }
        if (sending.stopSending()) {
            return false;
        }
        write(endKind, requestId, chunk, 0, 0, stallTimeoutNanos, sending);
        return true;
    }

    /**
     * The array to read a source's next chunk into: at first as large as what the source says it has, at least
     * {@value #FIRST_CHUNK_BYTES} bytes; four times larger once a read filled it, up to a frame. A short streamed body
     * (an echo of a small request) so takes a few hundred bytes rather than a frame's 128 KiB.
     */
    private byte[] chunkArray(byte[] last, int lastFilled, InputStream source) throws IOException {
        if (last == null) {
            return new byte[Math.min(maxChunk, Math.max(FIRST_CHUNK_BYTES, source.available()))];
        }
        if (lastFilled == last.length && last.length < maxChunk) {
            return new byte[(int) Math.min(maxChunk, 4L * last.length)];
        }
        return last;
    }

    /**
     * Runs {@code body} on a stream that writes frames of {@code dataKind} within the receiver's window, then ends
     * the body with a {@code endKind} frame.
     *
     * @return {@code true} if the end frame was written; {@code false} if cancelled (or the credit released) first
     * @throws SourceException if the body writer threw, other than for the receiver wanting no more (no end frame
     *     is written)
     */
    public boolean writeFrom(long requestId, int dataKind, int endKind, IpcDataWriter.BodyWriter body, Credit credit,
                             long stallTimeoutNanos, Outgoing sending) throws IOException {
        FrameOutputStream out = new FrameOutputStream(this, requestId, dataKind, credit, stallTimeoutNanos, sending);
        try {
            body.writeTo(out);
        } catch (IOException | RuntimeException e) {
            out.flushQuietly(); // what was written before the failure still goes, like a stream's bytes read
            if (out.stopped()) {
                return false; // the writer let our own exception through (or failed because of it)
            }
            if (out.failed() != null) {
                throw out.failed(); // the connection failed under the writer
            }
            throw new SourceException(e);
        }
        return out.finish(endKind);
    }

    /** Returns {@code credit} bytes of window to the peer for {@code requestId} (a WINDOW frame). */
    public void writeWindow(long requestId, int credit, long stallTimeoutNanos, Outgoing sending) throws IOException {
        byte[] chunk = new byte[FrameDescriptor.WINDOW_LENGTH];
        MemorySegment.ofArray(chunk).set(ValueLayout.JAVA_INT_UNALIGNED, FrameDescriptor.WINDOW_CREDIT_OFFSET, credit);
        write(FrameDescriptor.WINDOW, requestId, chunk, 0, chunk.length, stallTimeoutNanos, sending);
    }

    private long claim(int kind, int length, long stallTimeoutNanos, Outgoing sending) throws IOException {
        long deadline = 0; // counted from the first claim that finds no room
        for (boolean waited = false; ; waited = true) {
            if (closedBy != null) {
                throw closedException();
            }
            long at = ring.tryClaim(kind, FrameDescriptor.HEADER_LENGTH + length);
            if (at >= 0) {
                return at;
            }
            if (!waited) {
                deadline = stallTimeoutNanos > 0 ? System.nanoTime() + stallTimeoutNanos : Long.MAX_VALUE;
                if (waitsWithoutPoll > 0) {
                    waitsWithoutPoll--;
                } else if (SelfPoll.briefly(() -> ring.hasRoomFor(FrameDescriptor.HEADER_LENGTH + length)
                        || closedBy != null, ROOM_POLL_NANOS)) {
                    continue;
                } else {
                    waitsWithoutPoll = WAITS_WITHOUT_POLL;
                }
            }
            sending.beforeWaitingForRoom();
            headAtWait = ring.headPosition();
            roomWaiter = Thread.currentThread();
            try {
                if (ring.hasRoomFor(FrameDescriptor.HEADER_LENGTH + length)) {
                    continue;
                }
                long now = System.nanoTime();
                if (now >= deadline) {
                    throw new IpcTimeoutException(sending.description() + ": the peer made no room for "
                            + (FrameDescriptor.HEADER_LENGTH + length) + " bytes in the ring within "
                            + TimeUnit.NANOSECONDS.toMillis(stallTimeoutNanos) + " ms");
                }
                LockSupport.parkNanos(this, Math.min(PARK_SLICE_NANOS, deadline - now));
            } finally {
                roomWaiter = null;
            }
        }
    }

    /**
     * What a write found wrong in the ring's consumer position (the peer wrote garbage there), or {@code null}: every
     * later write fails the same way, so the owner should end the connection.
     */
    public String corruption() {
        return corruption;
    }

    /** Poller side: unparks a writer waiting for room once the consumer has moved. */
    public void wakeIfRoom() {
        Thread waiter = roomWaiter;
        if (waiter != null && ring.headPosition() != headAtWait) {
            LockSupport.unpark(waiter);
        }
    }

    /**
     * Fails every later write with what {@code cause} makes, wakes a waiting writer and waits for a frame in
     * progress to finish. Idempotent: the first cause stays.
     */
    public void close(Supplier<? extends IOException> cause) {
        if (closedBy == null) {
            closedBy = cause;
        }
        Thread waiter = roomWaiter;
        if (waiter != null) {
            LockSupport.unpark(waiter);
        }
        lock.lock();
        lock.unlock();
    }

    private IOException closedException() {
        Supplier<? extends IOException> cause = closedBy;
        return cause != null ? cause.get() : new IpcException("ring closed");
    }

    /** Reading the body's source stream (or running its writer) failed; the cause is the source's exception. */
    public static final class SourceException extends IOException {
        private static final long serialVersionUID = 1L;

        SourceException(Exception cause) {
            super(cause.getMessage(), cause);
        }
    }
}
