package ipc.connect.internal.connection;

import java.util.concurrent.TimeUnit;

/**
 * When a polling thread (a client's reader, a server's dispatcher, a client awaiting its accept) next asks whether its
 * peer process still runs: every {@link #BUSY_PERIOD_NANOS} while something waits on the answer (an exchange pending,
 * a handler at work), every {@link #IDLE_PERIOD_NANOS} otherwise, and the thread sleeps no longer than until then.
 * Each look costs a wake and a few reads of /proc: an idle reader and dispatcher looking ten times a second used
 * 0.38% and 0.44% of a core, once a second 0.04% and 0.08% (schedstat, 7 s). A call that begins wakes the thread (a
 * caller that stops polling, an async deadline, a request), which then looks within the busy period.
 *
 * <p>Used by one thread.
 */
final class LivenessSchedule {
    static final long BUSY_PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    static final long IDLE_PERIOD_NANOS = TimeUnit.SECONDS.toNanos(1);

    private long lastLook = System.nanoTime();

    /** Whether to look at {@code now}: the period since the last look is over. If so, the look counts as made. */
    boolean due(long now, boolean busy) {
        if (now - lastLook < period(busy)) {
            return false;
        }
        lastLook = now;
        return true;
    }

    /** How long from {@code now} the thread may sleep before its next look. */
    long untilNext(long now, boolean busy) {
        return Math.max(0, lastLook + period(busy) - now);
    }

    private static long period(boolean busy) {
        return busy ? BUSY_PERIOD_NANOS : IDLE_PERIOD_NANOS;
    }
}
