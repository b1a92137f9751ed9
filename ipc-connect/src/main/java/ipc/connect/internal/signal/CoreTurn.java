package ipc.connect.internal.signal;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.TimeUnit;

/**
 * A busy thread's turn on its core: a thread that polls, or works without ever blocking (a dispatcher, a reader, a
 * caller spinning for its response, a handler's thread polling for its connection's next request), gives its core to
 * any other runnable thread once its turn is over ({@link #yieldIfOver}), while the cores are contended.
 *
 * <p>Without turns the kernel's scheduler ends a busy thread's run only after its time slice, 0.75-3 ms: on 2 cores
 * with two clients calling in loops (two callers and two handler threads busy), the thread a third client's
 * occasional call needed (the server's dispatcher, the handler, the client's caller or reader) waited for a core that
 * long at each step. With turns, and handler threads that step aside for others (see {@code IpcServer}), its calls
 * took 69-124 µs (median) and 1.1-1.5 ms (p99) in {@code bench --connections}, against 0.57-1.2 ms and 8.9-18 ms
 * (three interleaved pairs); threads that outnumber the cores pay for it (see the README).
 *
 * <p>The cores count as contended while a thread of this process has found no free place among the {@link Spinners}
 * in the last {@value #CONTENDED_MICROS} µs ({@link Spinners#refusedAt()}): more threads want to spin than may. One
 * client and its server on 2 cores seldom are, and their calls mostly pay nothing but a comparison; yielding there
 * too (about once a millisecond) took the small calls' p99 to 4-37 µs (1-10 µs without), most likely as each yield
 * that let a thread of the JIT compiler or the dispatcher run held up a call.
 *
 * <p>A turn lasts {@value #SLICE_MICROS} µs while the yields show other threads waiting for the core (a yield that
 * came back only after {@value #SWITCHED_MICROS} µs or more: another thread ran); it doubles after each yield that
 * found none, up to {@value #LONGEST_MICROS} µs.
 *
 * <p>One instance per busy loop or connection; used without synchronization by the threads of one connection (a race
 * costs a yield more or fewer, nothing else).
 */
public final class CoreTurn {
    /** The turn while other threads wait for the core, in microseconds. */
    public static final long SLICE_MICROS = 50;
    /** The longest turn, once the yields find no other thread waiting, in microseconds. */
    public static final long LONGEST_MICROS = 1_000;
    /** A yield that lasted this long, in microseconds, let another thread run. */
    static final long SWITCHED_MICROS = 5;
    /** How long after a thread of this process found no spinning place the cores count as contended. */
    static final long CONTENDED_MICROS = 1_000;
    private static final long SLICE_NANOS = TimeUnit.MICROSECONDS.toNanos(SLICE_MICROS);
    private static final long LONGEST_NANOS = TimeUnit.MICROSECONDS.toNanos(LONGEST_MICROS);
    private static final long SWITCHED_NANOS = TimeUnit.MICROSECONDS.toNanos(SWITCHED_MICROS);
    private static final long CONTENDED_NANOS = TimeUnit.MICROSECONDS.toNanos(CONTENDED_MICROS);
    /** {@code int sched_yield(void)} (POSIX), or {@code null} where the C library has none (Windows). */
    private static final MethodHandle SCHED_YIELD = schedYield();

    private long startedAt = System.nanoTime();
    private long length = SLICE_NANOS;

    private static MethodHandle schedYield() {
        try {
            Linker linker = Linker.nativeLinker();
            MemorySegment function = linker.defaultLookup().find("sched_yield").orElse(null);
            return function == null ? null
                    : linker.downcallHandle(function, FunctionDescriptor.of(ValueLayout.JAVA_INT));
        } catch (RuntimeException e) {
            // IllegalCallerException when native access is denied: Thread.yield is the fallback, as in Futex
            return null;
        }
    }

    /**
     * If this turn is over at {@code now}, and the cores are contended, gives the core away ({@link #yieldCore()});
     * begins the next turn: {@value #SLICE_MICROS} µs if another thread took the core meanwhile, else twice as long as
     * this one (at most {@value #LONGEST_MICROS} µs). Uncontended, the next turn begins as long as this one, with no
     * yield.
     *
     * @return whether it yielded
     */
    public boolean yieldIfOver(long now) {
        if (now - startedAt < length) {
            return false;
        }
        if (now - Spinners.refusedAt() > CONTENDED_NANOS) {
            startedAt = now;
            return false;
        }
        yieldCore();
        long after = System.nanoTime();
        startedAt = after;
        length = nextLength(length, after - now);
        return true;
    }

    /** The turn after one of {@code length} nanoseconds that ended in a yield of {@code yieldNanos}. */
    static long nextLength(long length, long yieldNanos) {
        return yieldNanos >= SWITCHED_NANOS ? SLICE_NANOS : Math.min(length * 2, LONGEST_NANOS);
    }

    /** The length of the current turn, in nanoseconds, for tests. */
    long length() {
        return length;
    }

    /**
     * Lets another runnable thread have this thread's core: {@link Thread#yield()} on a platform thread; on a virtual
     * thread, {@code sched_yield} on its carrier. A virtual thread's {@link Thread#yield()} would give its carrier to
     * another virtual thread and leave this one waiting for a carrier, for milliseconds while the others are busy, and
     * a virtual thread that polls a connection holds the connection's reads meanwhile: the client skips waking the
     * dispatcher while a handler's thread polls, so that connection's next request waited as long (5-19 ms, and up to
     * 200 ms once the carriers also yielded their cores). Where there is no {@code sched_yield} (or no native access),
     * {@link Thread#yield()}.
     */
    public static void yieldCore() {
        if (SCHED_YIELD != null && Thread.currentThread().isVirtual()) {
            try {
                int ignored = (int) SCHED_YIELD.invokeExact();
            } catch (Throwable t) {
                throw new IllegalStateException("sched_yield failed", t);
            }
        } else {
            Thread.yield();
        }
    }
}
