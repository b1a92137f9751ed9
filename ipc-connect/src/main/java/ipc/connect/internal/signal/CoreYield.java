package ipc.connect.internal.signal;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Yields the core, from a platform thread or a virtual thread alike, to a thread of another process this one waits
 * for; and tells which core a thread runs on.
 *
 * <p>{@link Thread#yield()} on a virtual thread yields only its carrier, to the other virtual threads of the
 * scheduler: with none waiting, the virtual thread goes on at once, on the same core, which the thread it waits for
 * in the peer process may need. On 2 cores, with a handler's virtual thread polling for its client's next request on
 * the client caller's core (the other idle), the client waited for the poll to end, and each such yield woke the
 * scheduler's other carrier for nothing: calls 0.1 ms apart took 73-289 µs (p50) where the same calls answered on
 * the dispatcher, a platform thread, took 1-2. A virtual thread here calls {@code sched_yield} itself, on its carrier,
 * without unmounting: a system call of a microsecond that pins the carrier only while it runs.
 */
public final class CoreYield {
    /**
     * {@code int sched_yield(void)}, or {@code null} without it (or without native access). Not a critical downcall:
     * another thread may have the core for a while meanwhile, and a safepoint must not wait for it.
     */
    private static final MethodHandle SCHED_YIELD = find("sched_yield");
    /**
     * {@code int sched_getcpu(void)} (glibc: read from the kernel's per-thread area, no system call), or null; a
     * critical downcall, as short as an empty function.
     */
    private static final MethodHandle SCHED_GETCPU = find("sched_getcpu", Linker.Option.critical(false));

    private CoreYield() {
    }

    /** An {@code int f(void)} of the C library, or {@code null}. */
    private static MethodHandle find(String function, Linker.Option... options) {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find(function)
                    .map(symbol -> linker.downcallHandle(symbol, FunctionDescriptor.of(ValueLayout.JAVA_INT), options))
                    .orElse(null);
        } catch (RuntimeException e) {
            // IllegalCallerException when native access is denied, UnsupportedOperationException on odd platforms
            return null;
        }
    }

    /**
     * The core this thread runs on now (a virtual thread: its carrier's), from 0; {@code -1} where it is not known.
     * The scheduler may move the thread at any time after: a hint.
     */
    public static int currentCore() {
        if (SCHED_GETCPU == null) {
            return -1;
        }
        try {
            return (int) SCHED_GETCPU.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("sched_getcpu failed", t);
        }
    }

    /**
     * Yields this thread's core: {@link Thread#yield()} on a platform thread; {@code sched_yield} on a virtual
     * thread's carrier (or {@code Thread.yield()} where there is none).
     */
    public static void yieldCore() {
        if (SCHED_YIELD == null || !Thread.currentThread().isVirtual()) {
            Thread.yield();
            return;
        }
        try {
            int ignored = (int) SCHED_YIELD.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("sched_yield failed", t);
        }
    }

    /** Whether a virtual thread yields its core through {@code sched_yield}, for tests. */
    static boolean yieldsCarrier() {
        return SCHED_YIELD != null;
    }

    /** Whether {@link #currentCore()} knows, for tests. */
    static boolean knowsCores() {
        return SCHED_GETCPU != null;
    }
}
