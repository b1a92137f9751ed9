package ipc.connect.internal.connection;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;

/**
 * When a thread of {@code sendAsync} reads the response ring after a send: after each send, unless it pipelines, and
 * then after one send in up to {@value #MAX_SKIPS} + 1. One read then takes several responses, which the server wrote
 * into a cache line before the line moved to this core, and the read's lock and fences are paid once for them. In
 * {@code bench}'s workload (256 requests in flight, futures completed directly) the requests per second rose by about a
 * quarter.
 *
 * <p>A sender pipelines while its sends come back to back (at most {@value #BACK_TO_BACK_MICROS} µs apart) and its
 * turn holds (its reads found responses lately, so the connection's reader stays off the ring). It skips a read only
 * while fewer exchanges are pending than half the most ever pending at a send on the connection. That most is at most
 * the sender's window of requests in flight (the limit it waits at for a response before it sends more): so a skipped
 * read never leaves a response the sender then waits for, which only the connection's reader would read, once the
 * sender's turn is over (50-100 µs later). A window of 4 gains nothing, one of 256 all.
 *
 * <p>That bound fails where the window is not counted by pending exchanges: futures completed on other threads (a
 * response read is no longer pending, but its request still takes a place in the window until its completion has
 * run), a window that shrinks after it was wide, or senders with windows of different sizes (synchronous calls in
 * flight count as pending too). A send that comes {@value #STALL_MICROS} µs or more after one that skipped its read
 * may have waited for a response it left: no read is then skipped for the next {@value #COOL_DOWN_SENDS} sends. Such
 * a wait costs up to one or two of the reader's turns, 50-100 µs, once per cool-down at most. A sender whose thread
 * merely lost its core for a while looks the same (in {@code bench}, tens of times a second), and loses the gain for
 * a cool-down.
 *
 * <p>Shared by the senders of one connection without synchronization: a race costs a read more or fewer, nothing else.
 * The responses a sender leaves are read by its next read, another sender's, or the connection's reader.
 */
final class ReadCadence {
    /** Reads skipped in a row at most: one read in this many + 1 sends. */
    static final int MAX_SKIPS = 15;
    /** Sends at most this far apart come from a sender that does not wait between them. */
    static final long BACK_TO_BACK_MICROS = 5;
    /** A send this long or longer after one that skipped its read may have waited for what that read would take. */
    static final long STALL_MICROS = 20;
    /** Sends that read, each, after such a wait. */
    static final int COOL_DOWN_SENDS = 1024;
    private static final long BACK_TO_BACK_NANOS = TimeUnit.MICROSECONDS.toNanos(BACK_TO_BACK_MICROS);
    private static final long STALL_NANOS = TimeUnit.MICROSECONDS.toNanos(STALL_MICROS);
    /** Release stores and acquire loads of {@link #lastSendAt}, which the connection's reader reads too. */
    private static final VarHandle LAST_SEND_AT;

    static {
        try {
            LAST_SEND_AT = MethodHandles.lookup().findVarHandle(ReadCadence.class, "lastSendAt", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** When a sender last sent ({@code nanoTime}): written by {@link #readNow}, read by {@link #sendsAt} too. */
    private long lastSendAt = System.nanoTime() - STALL_NANOS;
    /** Reads skipped since the last read. */
    private int skipped;
    /** The most exchanges ever pending at a send (the one sent included). */
    private int mostPending;
    /** Sends left that read, each, after a wait. */
    private int coolDown;

    /**
     * A sender has just sent a request: whether it reads the response ring now.
     *
     * @param sentAt when the request was begun ({@code nanoTime})
     * @param turnHeld whether the sender's turn holds: reads after sends found responses lately
     * @param pending the exchanges pending now, the one just sent included
     */
    boolean readNow(long sentAt, boolean turnHeld, int pending) {
        long gap = sentAt - lastSendAt;
        LAST_SEND_AT.setRelease(this, sentAt);
        if (pending > mostPending) {
            mostPending = pending;
        }
        int skippedBefore = skipped;
        skipped = 0;
        if (skippedBefore > 0 && gap >= STALL_NANOS) {
            coolDown = COOL_DOWN_SENDS; // it waited, maybe for a response it left
        }
        if (coolDown > 0) {
            coolDown--;
            return true;
        }
        if (turnHeld && gap < BACK_TO_BACK_NANOS && skippedBefore < MAX_SKIPS && pending < mostPending / 2) {
            skipped = skippedBefore + 1;
            return false;
        }
        return true;
    }

    /**
     * Whether a sender sends at {@code now} ({@code nanoTime}): its last send, given to {@link #readNow}, came at most
     * {@value #BACK_TO_BACK_MICROS} µs before. Any thread may ask (the connection's reader does).
     */
    boolean sendsAt(long now) {
        return now - (long) LAST_SEND_AT.getAcquire(this) < BACK_TO_BACK_NANOS;
    }
}
