package ipc.connect.internal.signal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The places for threads of this process that spin while they wait: half the cores, none on one core. A poller spins
 * only while it holds a place; one that finds none yields, then sleeps, and is woken when its data comes.
 *
 * <p>Spinning wins while the waiting threads have a core each: the answer is seen the moment it is written. With
 * more of them than cores it loses everything: the spinners take the cores the threads doing the work need. On
 * 2 cores, with every caller and reader spinning, 8 connections fell from 45,000 requests/s to 17,000 and 64 to
 * 9,400; with these places they keep 42,000-77,000.
 */
public final class Spinners {
    /** Places in this process; the peer process has as many of its own. */
    public static final int PLACES = placesFor(Runtime.getRuntime().availableProcessors());
    private static final AtomicInteger TAKEN = new AtomicInteger();
    /** Written at most once in this long, however many threads find no place: see {@link #refusedAt()}. */
    static final long REFUSED_GRAIN_MICROS = 50;
    private static final long REFUSED_GRAIN_NANOS = TimeUnit.MICROSECONDS.toNanos(REFUSED_GRAIN_MICROS);
    private static volatile long refusedAt = System.nanoTime() - TimeUnit.SECONDS.toNanos(1);

    private Spinners() {
    }

    /**
     * Half of {@code cores}: none on one core, where a spinning thread only keeps the thread it waits for off the core
     * until the scheduler takes it away. Both processes on one core (under {@code taskset}): with a place each, a small
     * round trip took 150-213 µs (p50); with none, waiting threads polling by yielding, 10.5-28.6 µs, UDS 24-31 µs.
     */
    static int placesFor(int cores) {
        return cores / 2;
    }

    /**
     * Takes a place if one is free; the caller spins only if this returns {@code true}, and then
     * {@linkplain #leave() leaves} once it stops spinning.
     */
    public static boolean tryEnter() {
        int taken;
        do {
            taken = TAKEN.get();
            if (taken >= PLACES) {
                long now = System.nanoTime();
                if (now - refusedAt >= REFUSED_GRAIN_NANOS) {
                    refusedAt = now; // once a grain, however many threads are refused
                }
                return false; // no write to the count's line while all places are taken: it is contended
            }
        } while (!TAKEN.compareAndSet(taken, taken + 1));
        return true;
    }

    /**
     * When a thread of this process last found no free place, as {@link System#nanoTime()} (to within
     * {@value #REFUSED_GRAIN_MICROS} µs): more threads want to spin than may, so the cores are contended
     * ({@link CoreTurn}).
     */
    public static long refusedAt() {
        return refusedAt;
    }

    /** Gives back a place taken by {@link #tryEnter()}. */
    public static void leave() {
        TAKEN.decrementAndGet();
    }

    /** Places taken now, for tests. */
    static int taken() {
        return TAKEN.get();
    }
}
