package ipc.connect.internal.connection;

import ipc.connect.IpcTimeoutException;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The send window of one body in one direction: how many more chunk bytes the receiver has room for. It starts at
 * the receiver's buffer size and grows by the WINDOW frames the receiver sends as its consumer reads. Because a
 * sender never exceeds it, a receiving poller always has room for a frame and never leaves one at the head of the
 * shared ring, so one slow body cannot block the others of its connection.
 *
 * <p>A sender that finds no credit first reads the ring the window comes through itself, for up to
 * {@link #POLL_NANOS} ({@link Outgoing#pollForCredit}): the WINDOW frame then needs no hand-off from the thread that
 * usually reads that ring, nor a park and an unpark of the sender.
 *
 * <p>Thread-safe: one sending thread takes; the poller grants; any thread may {@link #release} waiters. A take
 * within the window is one compare-and-set (every small body is one); only a sender that must wait takes the lock.
 * A waiting sender sets {@code waiting} and then reads {@code available}; a grant adds to {@code available} and then
 * reads {@code waiting} (both volatile): either the sender sees the credit or the grant sees the sender.
 */
final class Credit {
    private static final long CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /**
     * How long a sender that finds no credit reads the window in itself before it waits for another thread to grant
     * it. In an upload the client's body writer ran out of credit about once in 2 MiB, the window's frame waiting
     * behind the client's reader thread, asleep or yielding to the writer: 4 GB streams waited 10,000 times, 630-730
     * ms in all of some 3 s (zero-copy upload; 250-280 ms for a plain one). Polling, they waited 0-60 times.
     */
    static final long POLL_NANOS = TimeUnit.MICROSECONDS.toNanos(50);
    private static final VarHandle AVAILABLE;
    private static final VarHandle LOCK;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            AVAILABLE = lookup.findVarHandle(Credit.class, "available", long.class);
            LOCK = lookup.findVarHandle(Credit.class, "lock", ReentrantLock.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // A lock rather than a monitor, as in InboundStream: virtual threads wait here. Made by the first thread that
    // needs it: a body within the window (every small one) never does, and saves its 48 bytes.
    private volatile ReentrantLock lock;
    private Condition granted; // made by the first sender that waits
    private volatile long available;
    private volatile boolean waiting;
    private volatile boolean released;
    private int polled; // what the sender's poll took: see pollFor

    Credit(long initial) {
        this.available = initial;
    }

    /**
     * Takes between 1 and {@code wanted} bytes of credit, waiting for some if there is none. Returns 0 without
     * waiting if {@code wanted} is 0, and 0 if released or the body stops sending, before or while waiting.
     *
     * @throws IpcTimeoutException if no credit came within {@code stallTimeoutNanos} (0: no limit)
     */
    int take(int wanted, long stallTimeoutNanos, Outgoing sending) throws IOException {
        if (wanted == 0 || sending.stopSending()) {
            return 0;
        }
        int taken = tryTake(wanted);
        if (taken > 0) {
            return taken;
        }
        return pollFor(wanted, sending) ? polled : takeWaiting(wanted, stallTimeoutNanos, sending);
    }

    /**
     * Reads the window in ({@link Outgoing#pollForCredit}) and takes credit, for up to {@link #POLL_NANOS}.
     *
     * @return whether it took some, into {@link #polled}
     */
    private boolean pollFor(int wanted, Outgoing sending) {
        polled = 0;
        SelfPoll.briefly(() -> {
            sending.pollForCredit();
            return released || sending.stopSending() || (polled = tryTake(wanted)) > 0;
        }, POLL_NANOS);
        return polled > 0;
    }

    /** Takes credit if there is some and the window is not released; returns 0 otherwise. */
    private int tryTake(int wanted) {
        while (!released) {
            long current = available;
            if (current <= 0) {
                return 0;
            }
            int taken = (int) Math.min(wanted, current);
            if (AVAILABLE.compareAndSet(this, current, current - taken)) {
                return taken;
            }
        }
        return 0;
    }

    private int takeWaiting(int wanted, long stallTimeoutNanos, Outgoing sending) throws IOException {
        ReentrantLock lock = lock();
        lock.lock();
        try {
            long deadline = System.nanoTime() + stallTimeoutNanos;
            while (true) {
                if (released || sending.stopSending()) {
                    return 0;
                }
                waiting = true;
                int taken = tryTake(wanted); // after announcing: a grant from now on signals
                if (taken > 0) {
                    return taken;
                }
                long slice = CHECK_NANOS; // wake now and then to see a cancellation
                if (stallTimeoutNanos > 0) {
                    long remaining = deadline - System.nanoTime();
                    if (remaining <= 0) {
                        throw new IpcTimeoutException(sending.description() + ": the receiver took no data within "
                                + TimeUnit.NANOSECONDS.toMillis(stallTimeoutNanos) + " ms");
                    }
                    slice = Math.min(slice, remaining);
                }
                if (granted == null) {
                    granted = lock.newCondition();
                }
                granted.awaitNanos(slice);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException(sending.description() + ": interrupted waiting for the receiver");
        } finally {
            waiting = false;
            lock.unlock();
        }
    }

    private ReentrantLock lock() {
        ReentrantLock current = lock;
        if (current == null) {
            ReentrantLock made = new ReentrantLock();
            current = LOCK.compareAndSet(this, null, made) ? made : lock;
        }
        return current;
    }

    /** Poller: the receiver made room for {@code bytes} more. */
    void grant(long bytes) {
        long current;
        do {
            current = available;
        } while (!AVAILABLE.compareAndSet(this, current,
                Math.min(Long.MAX_VALUE / 2, current + Math.max(0, bytes))));
        if (waiting) {
            signalWaiter();
        }
    }

    /** Wakes a waiting sender for good (cancelled, or the connection closed): it takes no more. */
    void release() {
        released = true;
        signalWaiter();
    }

    private void signalWaiter() {
        // No lock yet: no sender has begun to wait. One that begins later made it before it read released or the
        // credit (volatile, after its write of the lock), so it sees what this thread wrote before it came here.
        ReentrantLock lock = this.lock;
        if (lock == null) {
            return;
        }
        lock.lock();
        try {
            if (granted != null) {
                granted.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }
}
