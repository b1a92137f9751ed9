package ipc.connect.internal.connection;

import ipc.connect.IpcInputStream;
import ipc.connect.IpcTimeoutException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The receiving end of a streamed body: a bounded circular buffer filled by the poller thread with chunks copied out
 * of the ring, and read by the consumer (a handler or a caller) as an {@link IpcInputStream}. While a read waits on
 * the empty buffer, the chunks are copied straight into the read's array instead (one copy of each byte, not two).
 *
 * <p>When the buffer is full, {@link #offer} refuses the chunk and the poller leaves it in the ring; once the
 * consumer has drained half of the buffer it runs {@code onDrained} so the poller looks again. A view lent by
 * {@link #readView} stays untouched (and unreturned as window) until the consumer's next call. While a
 * {@code readView} waits on the empty buffer, the poller may {@link #lend} it the ring's record itself rather than copy
 * it: the views are then of shared memory, and the record is given back ({@link Owner#endLoan}) once its bytes are
 * taken and the consumer comes back, or on close. Data arrives in order; after the end (or a failure) the buffered
 * bytes are still delivered before {@code -1} (or the failure).
 *
 * <p>Thread-safety: one producer thread and one consumer thread at a time; {@link #close()} and {@link #fail} may
 * come from any thread. Reads happen-after the offers whose bytes they return.
 */
public final class InboundStream extends IpcInputStream {
    private static final int COPY = 0;
    private static final int DISCARD = 1;
    private static final int VIEW = 2; // from the buffer only, for transferTo
    private static final int IN_PLACE = 3; // from the buffer or from a lent record, for readView

    private static final byte[] EMPTY = new byte[0];
    /**
     * Release stores of {@link #ended} and {@link #progress}: both are written under the lock, whose release follows,
     * and read without it only by pollers that look again under the lock. A volatile store would add a full fence
     * each, three in a response of one frame.
     */
    private static final VarHandle ENDED;
    private static final VarHandle PROGRESS;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            ENDED = lookup.findVarHandle(InboundStream.class, "ended", boolean.class);
            PROGRESS = lookup.findVarHandle(InboundStream.class, "progress", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** What {@link #lend} did: lent the chunk to a waiting view. */
    public static final int LENT = 0;
    /** What {@link #lend} did: nothing, but the consumer reads by views and takes the chunk in place next: leave it. */
    public static final int LEAVE = 1;
    /** What {@link #lend} did: nothing; {@link #offer} the chunk. */
    public static final int NOT_LENT = 2;

    /** What a stream calls back: its exchange. */
    public interface Owner {
        /** Names the stream in exception messages (channel and request). */
        String description();

        /** Run (outside the lock) when a refused producer may offer again. */
        void onDrained();

        /** Run once when the consumer closes the stream before its end. */
        void onEarlyClose();

        /** Run (outside the lock) with bytes of window to give back to the sender. */
        void returnCredit(int bytes);

        /**
         * Gives back the ring record {@linkplain #lend lent} to the stream; run once per loan, outside the lock. Only
         * owners whose poller lends records need it.
         *
         * @param readsNext the consumer reads on at once (and so polls, or finds data): nobody else need be woken
         */
        default void endLoan(boolean readsNext) {
            throw new UnsupportedOperationException("no record is lent to this stream");
        }

        /**
         * Polls for the stream's data on the consumer's thread for a short while before the consumer waits to be
         * woken: returns once {@link InboundStream#progress()} is no longer {@code seen}, or when polling on would
         * cost more than waiting. The default does nothing: the consumer waits at once.
         */
        default void pollFor(int seen) {
        }
    }

    // A lock rather than a monitor: a virtual thread blocked on a monitor is resumed through a JDK thread of its
    // own ("VirtualThread-unblocker"), which cost a tenth of a core while a handler read a stream.
    private final ReentrantLock lock = new ReentrantLock();
    private Condition readable; // made by the first consumer that waits: a small body is whole before it is read
    private final int maxBuffered;
    private final long readTimeoutNanos;
    private final Owner owner;
    private int unreturned; // bytes read but not yet returned to the sender as window
    private byte lastByte; // the byte a single-byte read() took
    private byte[] viewArray; // the array of the view readView returns (the buffer may be replaced as it grows)
    private int viewStart; // where in viewArray the last view begins

    // A read that waits on an empty buffer lends its array: offers copy straight into it (one copy of each byte
    // fewer) until it is full or the read takes what came; only then do they fill the buffer again.
    private byte[] target;
    private int targetOffset;
    private int targetLength;
    private int delivered; // bytes copied into target so far
    private boolean unwoken; // the read was not woken for the last of them: see flush

    // A readView that waits on an empty buffer may be lent the ring's record in place (no copy at all): its views are
    // then of shared memory, until all of it is taken and the consumer comes back (or closes the stream).
    private boolean wantsLoan;
    private volatile boolean readsInPlace; // the consumer's last call was a readView
    private MemorySegment loan; // the lent record's memory, or null
    private long loanOffset;
    private int loanLength;
    private int loanTaken; // bytes of it taken so far
    private MemorySegment viewSegment; // the memory of the last view if it was lent in place, else null
    private long viewOffset;
    private volatile Thread loanViewer; // the thread that took views of the lent record, while it is lent
    /**
     * Bumped (under the lock, {@link #PROGRESS}) whenever a waiting consumer has something new to look at: see
     * Owner#pollFor.
     */
    private volatile int progress;

    private byte[] buffer = EMPTY;
    private int readIndex;
    private int size;
    private int lent; // bytes of the last view: kept from being overwritten, given back as window on the next read
    private volatile boolean ended; // written under the lock (ENDED); read without it by end() and isEnded()
    private boolean closed;
    private boolean stalled;
    private IOException failure;

    /**
     * @param maxBuffered bytes buffered before offers are refused
     * @param readTimeoutNanos longest wait of a read for data, or 0 for no limit
     * @param owner called back when the producer may go on, on an early close, and with window to give back: every
     *     quarter of {@code maxBuffered} read
     */
    public InboundStream(int maxBuffered, long readTimeoutNanos, Owner owner) {
        if (maxBuffered <= 0) {
            throw new IllegalArgumentException("maxBuffered <= 0: " + maxBuffered);
        }
        this.maxBuffered = maxBuffered;
        this.readTimeoutNanos = readTimeoutNanos;
        this.owner = Objects.requireNonNull(owner, "owner");
    }

    // ------------------------------------------------------------------------------------------------ producer side

    /**
     * Copies {@code length} bytes from {@code source}, unless the buffer is full.
     *
     * @return {@code false} if the chunk was refused (offer it again later); {@code true} if taken, or dropped
     *     because the consumer closed the stream or it failed
     */
    public boolean offer(MemorySegment source, long offset, int length) {
        return offer(source, offset, length, false);
    }

    /**
     * {@link #offer(MemorySegment, long, int)}, ending the body with the chunk if {@code last} and it is taken (or
     * dropped): one lock and one wake for both, as for every body that comes in one frame.
     */
    public boolean offer(MemorySegment source, long offset, int length, boolean last) {
        lock.lock();
        try {
            if (closed || failure != null || ended) {
                if (last && !ended) {
                    ENDED.setRelease(this, true);
                    wakeConsumer();
                }
                return true;
            }
            int direct = 0;
            if (target != null && size == 0) { // in order: only while nothing waits in the buffer
                direct = Math.min(length, targetLength - delivered);
                MemorySegment.copy(source, ValueLayout.JAVA_BYTE, offset, target, targetOffset + delivered, direct);
                delivered += direct;
            }
            int rest = length - direct;
            int occupied = size + lent; // a lent view is not overwritten; 0 after a direct copy (the read freed it)
            if (occupied > 0 && occupied + rest > maxBuffered) {
                stalled = true;
                return false;
            }
            if (rest > 0) {
                // a body that comes whole into an empty buffer gets an array of its size: readAllBytes hands it over
                ensureCapacity(occupied + rest, last && occupied == 0);
                appendBuffered(source, offset + direct, rest);
            }
            if (last) {
                ENDED.setRelease(this, true);
            }
            if (rest > 0 || last || direct > 0 && delivered == targetLength) {
                wakeConsumer();
            } else if (direct > 0) {
                unwoken = true; // the read's array has room for more of this batch: woken by flush
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@link #offer(MemorySegment, long, int, boolean)} for the first chunk of a stream no other thread has yet: its
     * consumer gets it only afterwards, through an edge that orders these writes before its reads (completing a
     * future, starting a thread, or running on this thread). Always taken, without the lock: a body of one frame
     * saves a lock and the fence of its release. A stream failed or closed meanwhile by another thread (its
     * connection lost) takes the locked path, which drops the chunk.
     */
    public void offerFirst(MemorySegment source, long offset, int length, boolean last) {
        if (closed || failure != null || ended) {
            offer(source, offset, length, last); // taken and dropped: true
            return;
        }
        if (length > 0) {
            ensureCapacity(length, last); // an array of the body's size if it comes whole: readAllBytes hands it over
            appendBuffered(source, offset, length);
        }
        if (last) {
            ENDED.setRelease(this, true); // after the bytes: a thread that sees the end sees them
        }
    }

    /**
     * Wakes the waiting read if chunks went into its array without waking it. The producer calls this once it has
     * offered what there was (the end of its pass over the ring): a read lending a large array is then woken once
     * per pass, not once per chunk.
     */
    public void flush() {
        if (!unwoken) {
            // Only the producer, the thread calling this, sets it: unlocked, it sees its own write (or the read's
            // later clearing). Most offers wake at once, so most flushes stop here rather than take the lock.
            return;
        }
        lock.lock();
        try {
            if (unwoken) {
                unwoken = false;
                wakeConsumer();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * For a consumer that reads by views: lends the chunk in place to a {@code readView} waiting on the empty buffer,
     * rather than copying it. The consumer reads it where it lies, and the poller must keep the ring's record there
     * (see {@link ipc.connect.internal.ring.OneToOneRing#lend()}) until {@link Owner#endLoan}. If the consumer reads
     * by views but does not wait now (it has a view out, or bytes buffered), the chunk is best left where it is: its
     * next {@code readView} takes it in place.
     *
     * @return {@link #LENT}, {@link #LEAVE} or {@link #NOT_LENT}
     */
    public int lend(MemorySegment source, long offset, int length) {
        if (!readsInPlace) {
            return NOT_LENT;
        }
        lock.lock();
        try {
            if (length == 0 || closed || failure != null || ended || loan != null) {
                return NOT_LENT;
            }
            if (!wantsLoan || size > 0 || lent > 0) {
                return LEAVE;
            }
            loan = source;
            loanOffset = offset;
            loanLength = length;
            loanTaken = 0;
            wakeConsumer();
            return LENT;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Grows the buffer to hold {@code needed} bytes: to a power of two (at least 64) for bodies still coming, to
     * exactly {@code needed} if {@code exact} (no byte will be added).
     */
    private void ensureCapacity(int needed, boolean exact) {
        if (needed <= buffer.length) {
            return;
        }
        int capacity = exact ? needed : Math.max(64, Integer.highestOneBit(Math.max(needed - 1, 1)) << 1);
        byte[] grown = new byte[capacity];
        copyBuffered(grown, 0, size);
        buffer = grown;
        readIndex = 0;
    }

    /** Copies {@code n} bytes of {@code source} after the buffered ones (across the wrap); the room is there. */
    private void appendBuffered(MemorySegment source, long offset, int n) {
        int writeIndex = wrap(readIndex + size);
        int first = Math.min(n, buffer.length - writeIndex);
        MemorySegment.copy(source, ValueLayout.JAVA_BYTE, offset, buffer, writeIndex, first);
        MemorySegment.copy(source, ValueLayout.JAVA_BYTE, offset + first, buffer, 0, n - first);
        size += n;
    }

    /** {@code index} (below twice the buffer's length) as an index into the circular buffer. */
    private int wrap(int index) {
        return index >= buffer.length ? index - buffer.length : index;
    }

    /** Copies the first {@code n} buffered bytes (from {@link #readIndex}, across the wrap) into {@code into}. */
    private void copyBuffered(byte[] into, int at, int n) {
        int first = Math.min(n, buffer.length - readIndex);
        System.arraycopy(buffer, readIndex, into, at, first);
        System.arraycopy(buffer, 0, into, at + first, n - first);
    }

    /** The body is complete. */
    public void end() {
        if (ended) {
            return; // its last chunk ended it (written under the lock, only ever set)
        }
        lock.lock();
        try {
            ENDED.setRelease(this, true);
            wakeConsumer();
        } finally {
            lock.unlock();
        }
    }

    /** The body cannot complete: reads throw {@code cause} once the buffered bytes are consumed. */
    public void fail(IOException cause) {
        lock.lock();
        try {
            if (!ended && failure == null) {
                failure = cause;
                wakeConsumer();
            }
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------------ consumer side

    @Override
    public int read() throws IOException {
        return consume(null, 0, 1, DISCARD) < 0 ? -1 : lastByte & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        return consume(b, off, len, COPY);
    }

    /**
     * The rest of the body. Once it has all come (a small body has, before it is read), one array of its exact size;
     * otherwise as {@link java.io.InputStream#readAllBytes}, which reads through a 16 KiB array of its own (a handler
     * reading an 11-byte request so allocated over 16 KiB a request).
     */
    @Override
    public byte[] readAllBytes() throws IOException {
        byte[] whole = takeWholeBody();
        return whole != null ? whole : super.readAllBytes();
    }

    /** The rest of the body in one array if it has ended and no view is lent; {@code null} otherwise. */
    private byte[] takeWholeBody() throws IOException {
        lock.lock();
        try {
            if (closed) {
                throw new IOException(owner.description() + ": stream closed");
            }
            if (!ended || failure != null || lent > 0 || loan != null) {
                // still coming, or failed (a refused request ends too: its reads throw once the buffered bytes are
                // taken), or a view or a lent record to give back first: read chunk by chunk
                return null;
            }
            byte[] whole;
            if (readIndex == 0 && size == buffer.length) { // the array made for a body that came whole: hand it over
                whole = buffer;
                buffer = EMPTY;
            } else {
                whole = new byte[size];
                copyBuffered(whole, 0, size);
                readIndex = wrap(readIndex + size);
            }
            size = 0;
            return whole; // after the end no window is given back, as in consume
        } finally {
            lock.unlock();
        }
    }

    /**
     * Writes the rest of the body to {@code out} straight from the receiving buffer, each piece as a view would lend
     * it: no array of its own and one copy fewer than {@link java.io.InputStream#transferTo}'s reads through a 16 KiB
     * array.
     */
    @Override
    public long transferTo(java.io.OutputStream out) throws IOException {
        Objects.requireNonNull(out, "out");
        long total = 0;
        int n;
        while ((n = consume(null, 0, maxBuffered, VIEW)) >= 0) {
            out.write(viewArray, viewStart, n); // lent until the next consume: untouched meanwhile
            total += n;
        }
        return total;
    }

    /** Discards up to {@code n} bytes, waiting for data like {@code read}, without allocating. */
    @Override
    public long skip(long n) throws IOException {
        if (n <= 0) {
            return 0;
        }
        int skipped = consume(null, 0, (int) Math.min(n, Integer.MAX_VALUE), DISCARD);
        return Math.max(0, skipped);
    }

    @Override
    public ByteBuffer readView(int maxLength) throws IOException {
        if (maxLength <= 0) {
            throw new IllegalArgumentException("maxLength <= 0: " + maxLength);
        }
        int n = consume(null, 0, maxLength, IN_PLACE);
        if (n < 0) {
            return null;
        }
        return viewSegment != null ? viewSegment.asSlice(viewOffset, n).asByteBuffer().asReadOnlyBuffer()
                : ByteBuffer.wrap(viewArray, viewStart, n).slice().asReadOnlyBuffer();
    }

    /**
     * Takes up to {@code len} bytes: copied into {@code b}, discarded (the first kept in {@link #lastByte}), or lent
     * in place from {@link #viewStart} of {@link #viewArray} (contiguous, so perhaps fewer) or, {@code IN_PLACE},
     * from {@link #viewOffset} of a {@linkplain #lend lent} record's {@link #viewSegment}; waits for data as a read
     * does. A view lent before is returned first: its bytes are freed and count toward the window given back, and a
     * lent record whose bytes are all taken goes back to the poller. A copying read that waits lends {@code b} to
     * the producer, which copies into it directly; a waiting {@code IN_PLACE} read may be lent a record.
     *
     * @return the count, or -1 at the end
     */
    private int consume(byte[] b, int off, int len, int mode) throws IOException {
        if (loan != null) { // only this thread and close() clear it, and a loan is made only while this thread waits
            returnSpentLoan(true);
        }
        if (readsInPlace != (mode == IN_PLACE)) {
            readsInPlace = mode == IN_PLACE;
        }
        boolean drained = false;
        boolean spent = false;
        int credit = 0;
        int n;
        lock.lock();
        try {
            if (closed) {
                throw new IOException(owner.description() + ": stream closed");
            }
            if (len == 0) {
                return 0;
            }
            if (lent > 0) {
                unreturned += lent;
                lent = 0;
                if (stalled && size <= maxBuffered / 2) {
                    stalled = false;
                    drained = true;
                }
            }
            if (size == 0 && loan == null) {
                if (mode == COPY) {
                    target = b;
                    targetOffset = off;
                    targetLength = len;
                } else {
                    wantsLoan = mode == IN_PLACE;
                }
            }
            try {
                awaitData(drained);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (delivered == 0 && loan == null) {
                    throw new java.io.InterruptedIOException(owner.description()
                            + ": interrupted while waiting for data");
                } // else the bytes already in b (or lent) are returned, and the flag stays set
            } finally {
                target = null;
                wantsLoan = false;
            }
            if (closed) {
                throw new IOException(owner.description() + ": stream closed");
            }
            viewSegment = null;
            boolean counted = true; // toward the window now; a lent record's bytes count when it goes back
            if (delivered > 0) { // copied straight into b; anything after them waits in the buffer
                n = delivered;
                delivered = 0;
                unwoken = false;
            } else if (loan != null) { // nothing is buffered while a record is lent: its bytes come next
                n = Math.min(len, loanLength - loanTaken);
                long at = loanOffset + loanTaken;
                switch (mode) {
                    case COPY -> MemorySegment.copy(loan, ValueLayout.JAVA_BYTE, at, b, off, n);
                    case IN_PLACE -> {
                        viewSegment = loan;
                        viewOffset = at;
                        loanViewer = Thread.currentThread();
                    }
                    case VIEW -> { // transferTo after views lent in place: out.write needs an array
                        viewArray = new byte[n];
                        viewStart = 0;
                        MemorySegment.copy(loan, ValueLayout.JAVA_BYTE, at, viewArray, 0, n);
                    }
                    default -> lastByte = loan.get(ValueLayout.JAVA_BYTE, at);
                }
                loanTaken += n;
                spent = mode != IN_PLACE && loanTaken == loanLength; // copied out: give it back at once
                counted = false;
            } else {
                if (size == 0 && (ended || failure != null)) {
                    if (failure != null) {
                        throw Failures.inCaller(failure);
                    }
                    return -1;
                }
                n = Math.min(len, size);
                switch (mode) {
                    case COPY -> copyBuffered(b, off, n);
                    case VIEW, IN_PLACE -> {
                        n = Math.min(n, buffer.length - readIndex); // contiguous: up to the wrap
                        viewArray = buffer;
                        viewStart = readIndex;
                        lent = n; // freed, and given back as window, on the next consume
                        counted = false;
                    }
                    default -> lastByte = n > 0 ? buffer[readIndex] : lastByte;
                }
                readIndex = wrap(readIndex + n);
                size -= n;
                if (stalled && size <= maxBuffered / 2) {
                    stalled = false;
                    drained = true;
                }
            }
            if (counted) {
                unreturned += n;
            }
            if (unreturned >= maxBuffered / 4 && !ended) {
                credit = unreturned;
                unreturned = 0;
            }
        } finally {
            lock.unlock();
        }
        if (spent) {
            returnSpentLoan(false);
        }
        if (drained) {
            owner.onDrained();
        }
        if (credit > 0) {
            owner.returnCredit(credit);
        }
        return n == 0 ? consume(b, off, len, mode) : n; // 0 only after leaving the wait to free room: wait again
    }

    /**
     * Gives the lent record back to the poller once its bytes are all taken (the view of the last of them, if any,
     * is over: the consumer has come back). Its bytes count toward the window from now.
     *
     * @param reading the consumer is about to take more (it came back to read), rather than going back to its caller
     */
    private void returnSpentLoan(boolean reading) {
        boolean readsNext;
        lock.lock();
        try {
            if (loan == null || loanTaken < loanLength) {
                return;
            }
            dropLoan();
            unreturned += loanLength;
            readsNext = reading && !ended && failure == null && !closed;
        } finally {
            lock.unlock();
        }
        owner.endLoan(readsNext);
    }

    /**
     * Waits, holding the lock, until there is data, the end, a failure or a close, or until the producer (or the
     * sender) should first be let go on: room was {@code drained}, or a quarter of the window is to be given back.
     * Before it sleeps, the consumer polls for the data itself where the owner can ({@link Owner#pollFor}).
     */
    private void awaitData(boolean drained) throws InterruptedException, IpcTimeoutException {
        long remaining = readTimeoutNanos;
        boolean polled = false;
        while (size == 0 && delivered == 0 && loan == null && !ended && failure == null && !closed) {
            if (drained || unreturned >= maxBuffered / 4 && !ended) {
                return;
            }
            if (!polled) {
                polled = true;
                int seen = progress;
                lock.unlock(); // the poll may offer to this stream (into b, or lending) and to others
                try {
                    owner.pollFor(seen);
                } finally {
                    lock.lock();
                }
                continue;
            }
            if (readable == null) {
                readable = lock.newCondition();
            }
            if (readTimeoutNanos <= 0) {
                readable.await();
            } else {
                if (remaining <= 0) {
                    throw new IpcTimeoutException(owner.description() + ": no data within "
                            + TimeUnit.NANOSECONDS.toMillis(readTimeoutNanos) + " ms");
                }
                remaining = readable.awaitNanos(remaining);
            }
        }
    }

    /**
     * Gives a lent record back at once, its bytes not yet taken copied into the buffer first (in order): views taken
     * of it are over. For a server whose handler has returned: its response may need the window the client sends
     * through the ring, behind the lent record. Consumer side.
     */
    public void takeBackLoan() {
        if (loan == null) { // as in consume: only a loan this thread took could be here, and it would see it
            return;
        }
        lock.lock();
        try {
            if (loan == null) {
                return;
            }
            int rest = loanLength - loanTaken;
            ensureCapacity(size + rest, false);
            appendBuffered(loan, loanOffset + loanTaken, rest);
            unreturned += loanTaken; // the rest counts when read from the buffer
            dropLoan();
        } finally {
            lock.unlock();
        }
        owner.endLoan(false);
    }

    // holding the lock: the lent record is no longer this stream's, nor are views of it (the caller gives it back)
    private void dropLoan() {
        loan = null;
        viewSegment = null;
        loanViewer = null;
    }

    /** Whether {@code thread} took views of a record lent to this stream that it has not given back yet. */
    boolean isViewedInPlaceBy(Thread thread) {
        return loanViewer == thread;
    }

    /** Whether the consumer reads by views ({@code readView}), in place where it can. */
    boolean readsInPlace() {
        return readsInPlace;
    }

    /** Counts what a waiting consumer may look for: see {@link Owner#pollFor}. */
    int progress() {
        return progress;
    }

    @Override
    public int available() throws IOException {
        lock.lock();
        try {
            if (closed) {
                throw new IOException(owner.description() + ": stream closed");
            }
            return loan != null ? loanLength - loanTaken : size;
        } finally {
            lock.unlock();
        }
    }

    /** Closes the stream; if it had not ended, the rest of the body is discarded. Idempotent. */
    @Override
    public void close() {
        if (ended && size == 0 && loan == null && !stalled && !closed) {
            // Read whole (every small response): nothing to give back, stop or wake, and the producer is done with
            // the stream. Only the flag is set, without the lock (a read racing with this close returns -1 or
            // fails as closed, either way), and no buffer is touched. Stale values of the fields read here (another
            // thread's close) only ever send it down the locked path: after the end, they change only toward it.
            closed = true;
            return;
        }
        boolean early;
        boolean drained;
        boolean giveBack;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            early = !ended && failure == null;
            drained = stalled;
            stalled = false;
            buffer = EMPTY;
            size = 0;
            lent = 0;
            giveBack = loan != null;
            dropLoan();
            wakeConsumer();
        } finally {
            lock.unlock();
        }
        if (giveBack) {
            owner.endLoan(false);
        }
        if (early) {
            owner.onEarlyClose(); // the owner tells the sender to stop (or cancels); later chunks are dropped
        }
        if (drained) {
            owner.onDrained();
        }
    }

    // holding the lock
    private void wakeConsumer() {
        PROGRESS.setRelease(this, progress + 1); // only under the lock: no update is lost
        if (readable != null) {
            readable.signalAll();
        }
    }

    /** Whether the whole body arrived. */
    public boolean isEnded() {
        return ended;
    }
}
