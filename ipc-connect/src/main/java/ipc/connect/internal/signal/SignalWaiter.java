package ipc.connect.internal.signal;

import java.lang.foreign.MemorySegment;

/**
 * The idle strategy of one polling thread, in the duty-cycle idiom of Agrona's {@code IdleStrategy}: after a pass
 * that did work call {@link #reset()}; after a pass that found nothing call {@link #idle(boolean, long)}, then poll
 * again.
 *
 * <p>Idling goes through three phases: spin with {@link Thread#onSpinWait()} (yielding now and then), then
 * {@link Thread#yield()}, then sleep on the {@link Signal}. Before the first sleep it announces itself and returns
 * once so that the caller polls again (the announce/re-check/sleep protocol of {@link Signal}); only the next
 * {@code idle} sleeps.
 *
 * <p>The thread spins only while it holds a place among the process's {@link Spinners}. It keeps its place from one
 * idle period to the next while it finds work, and gives it back when it moves on to yielding, or when its owner
 * calls {@link #stopSpinning()} (before waiting some other way, and when done).
 *
 * <p>Not thread-safe: one instance per polling thread.
 */
public final class SignalWaiter {
    /** Passes spun without yielding: work that comes back within them finds this thread on its core. */
    private static final int SPINS_BEFORE_YIELDING = 1024;
    /** After those, yield the core once every this many passes (at once while other threads do the work). */
    private static final int YIELD_EVERY = 64;
    /**
     * Passes spun, at most, while other threads of this process do the work this one waits for (handlers): a handler
     * that streams for long needs the core more than its dispatcher needs to be hot for the next request (on 2 cores a
     * dispatcher spinning through a 10 GB response took 40-60% of a core).
     */
    private static final int SPINS_WHILE_OTHERS_WORK = 4096;
    /** A spinning thread's loop reads the clock once in this many idle passes: see {@link #isClockDue()}. */
    private static final int CLOCK_EVERY = 64;
    private final Signal signal;
    private final int spins;
    private final int yields;
    private final long sleepNanos;
    private final MemorySegment scratch = Signal.newScratch();
    private int idleCount;
    private int sleeps;
    private boolean announced;
    private int sequence;
    /** The last idle period ended in a sleep: work found next most likely came with a wake. */
    private boolean woke;
    /** The idle period after the first work since a wake: see {@link #idle(boolean, long)}. */
    private boolean yieldEarly;
    /** Holds a place among the {@link Spinners}. */
    private boolean spinning;

    /**
     * @param spins idle passes spent spinning
     * @param yields further idle passes spent yielding
     * @param sleepNanos longest sleep, after which the caller polls (and does its periodic checks) again
     */
    public SignalWaiter(Signal signal, int spins, int yields, long sleepNanos) {
        this.signal = signal;
        this.spins = spins;
        this.yields = yields;
        this.sleepNanos = sleepNanos;
    }

    /**
     * Gives back this thread's place among the spinners, if it holds one: call before waiting other than through
     * {@link #idle}, and when done with this waiter.
     */
    public void stopSpinning() {
        if (spinning) {
            spinning = false;
            Spinners.leave();
        }
    }

    /** Whether this thread holds a place among the spinners, for tests. */
    boolean isSpinning() {
        return spinning;
    }

    /**
     * Whether the polling loop should read the clock for its periodic checks on this idle pass: on every pass unless
     * the thread holds a spinning place (its idle passes then come back to back), then on one in
     * {@value #CLOCK_EVERY} ({@link System#nanoTime()} costs as much as the rest of a spinning pass, 25-30 ns on this
     * VM, and a poll that comes sooner finds the work sooner).
     */
    public boolean isClockDue() {
        return !spinning || (idleCount & (CLOCK_EVERY - 1)) == 0;
    }

    /** The last pass did work: start the next idle period from spinning again (if a place is free). */
    public void reset() {
        if (announced) {
            signal.retract();
            announced = false;
        }
        idleCount = 0;
        sleeps = 0;
        yieldEarly = woke;
        woke = false;
    }

    /**
     * Whether a spinning thread, after {@code idlePasses} passes without work, yields its core now: never in the
     * first {@value #SPINS_BEFORE_YIELDING} (a yield is a system call, and a quick answer would wait for the core to
     * come back), then every {@value #YIELD_EVERY}; every {@value #YIELD_EVERY} from the start while
     * {@code othersWorking} (threads of this process doing the work this one waits for, which on few cores may
     * need this core).
     */
    public static boolean shouldYield(int idlePasses, boolean othersWorking) {
        return (idlePasses & (YIELD_EVERY - 1)) == 0 && (othersWorking || idlePasses >= SPINS_BEFORE_YIELDING);
    }

    /**
     * The thread can do nothing until another thread of its process makes room and rings the signal (a consumer
     * that has caught up): spinning would only take the core that thread needs, so the next idle passes announce
     * and sleep at once.
     */
    public void skipSpinning() {
        idleCount = Math.max(idleCount, spins + yields);
    }

    /**
     * The last pass found nothing: spin, yield or sleep.
     *
     * <p>In the first idle period after work that came through a wake, the thread yields early as it does while
     * {@code othersWorking}: the thread that woke it often waits for this very core (on few cores a woken thread
     * tends to land on its waker's, the other cores sleeping), and gets it back only at a yield.
     *
     * @param othersWorking whether the work this thread waits for is being done by other threads of this process
     *     (handlers, a consumer): see {@link #shouldYield}; it then spins less
     * @param maxSleepNanos the longest sleep for this call (a caller's own deadline), at most the one given at
     *     construction
     */
    public void idle(boolean othersWorking, long maxSleepNanos) {
        int spinLimit = othersWorking ? Math.min(spins, SPINS_WHILE_OTHERS_WORK) : spins;
        if (announced && idleCount < spinLimit + yields) {
            signal.retract(); // announced while others worked; now they are done: spin again, unannounced
            announced = false;
        }
        if (idleCount < spinLimit && !spinning) {
            if (Spinners.tryEnter()) {
                spinning = true;
            } else {
                idleCount = spinLimit; // enough threads of this process spin: yield, then sleep
            }
        }
        if (idleCount < spinLimit) {
            idleCount++;
            if (shouldYield(idleCount, othersWorking || yieldEarly)) {
                Thread.yield(); // on few cores, let a runnable peer (the thread with the work) have this one
            } else {
                Thread.onSpinWait();
            }
        } else if (idleCount < spinLimit + yields) {
            stopSpinning();
            idleCount++;
            Thread.yield();
        } else if (!announced) {
            stopSpinning();
            yieldEarly = false;
            sequence = signal.announce();
            announced = true;
        } else {
            // In the kernel a sleep ends at the wake; the portable fallback can only poll, backing off from 50 µs
            // to about 13 ms so an idle fallback process stays near 0% CPU.
            long longest = Math.max(0, Math.min(sleepNanos, maxSleepNanos));
            long nanos = Signal.kernelWait() ? longest : Math.min(longest, 50_000L << Math.min(sleeps, 8));
            sleeps++;
            signal.await(sequence, nanos, scratch);
            signal.retract();
            announced = false;
            woke = true;
        }
    }
}
